// SPDX-License-Identifier: MIT
/*
 * loader.c - check a guest kernel ELF against coop's rules, then copy it
 * into guest RAM.  The file is untrusted: every offset and size is checked
 * with overflow-safe arithmetic and nothing is read outside the buffer.
 * "segment N" in a reason is the program header index, as `readelf -l`
 * numbers them.  Tests: build/tests/test_loader (tests/unit/shim/).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <coop/abi.h>

#include "loader.h"

/* Everything shim_elf_check needs while it walks one file. */
struct elf_ctx {
	const uint8_t *buf;  /* the file */
	size_t len;          /* its size in bytes */
	uint64_t load_min;   /* lowest guest address a segment may use */
	uint64_t load_max;   /* one past the highest */
	Elf64_Ehdr eh;       /* copy of the header (buf may be unaligned) */
	char *err;           /* where the reason goes */
	size_t errlen;
};

/* Write a reason into err (if there is room) and return rc. */
__attribute__((format(printf, 4, 5))) static int
fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

#define reject(c, ...) fail((c)->err, (c)->errlen, -ENOEXEC, __VA_ARGS__)

static void clear_err(char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
}

/* Is [off, off+size) inside the file?  *end gets off+size. */
static bool in_file(const struct elf_ctx *c, uint64_t off, uint64_t size, uint64_t *end)
{
	if (__builtin_add_overflow(off, size, end))
		return false;
	return *end <= c->len;
}

/*
 * e_ident first: its class and data bytes decide how to read the rest, and
 * a 32-bit or big-endian file deserves that reason, not "truncated".
 */
static int check_ident(struct elf_ctx *c)
{
	const uint8_t *id = c->buf;

	if (c->len < SELFMAG || memcmp(id, ELFMAG, SELFMAG) != 0)
		return reject(c, "not an ELF file (bad magic)");
	if (c->len < EI_NIDENT)
		return reject(c, "truncated: the ELF identification needs %d bytes, file has %zu bytes",
			      EI_NIDENT, c->len);
	if (id[EI_CLASS] == ELFCLASS32)
		return reject(c, "32-bit ELF (ELFCLASS32): coop needs an ELF64 x86-64 guest kernel");
	if (id[EI_CLASS] != ELFCLASS64)
		return reject(c, "bad ELF class %u: coop needs an ELF64 x86-64 guest kernel",
			      id[EI_CLASS]);
	if (id[EI_DATA] == ELFDATA2MSB)
		return reject(c, "big-endian ELF (ELFDATA2MSB): coop needs a little-endian x86-64 guest kernel");
	if (id[EI_DATA] != ELFDATA2LSB)
		return reject(c, "bad ELF data encoding %u, expected little-endian (ELFDATA2LSB)",
			      id[EI_DATA]);
	if (id[EI_VERSION] != EV_CURRENT)
		return reject(c, "ELF identification version %u, expected %d (EV_CURRENT)",
			      id[EI_VERSION], EV_CURRENT);
	return 0;
}

static int check_ehdr(struct elf_ctx *c)
{
	const Elf64_Ehdr *eh = &c->eh;

	if (c->len < sizeof(*eh))
		return reject(c, "truncated: the ELF header needs %zu bytes, file has %zu bytes",
			      sizeof(*eh), c->len);
	memcpy(&c->eh, c->buf, sizeof(c->eh));
	if (eh->e_machine != EM_X86_64)
		return reject(c, "ELF for machine %u, not x86-64 (%d)", eh->e_machine, EM_X86_64);
	if (eh->e_type != ET_EXEC)
		return reject(c, "not an executable (e_type %u, expected ET_EXEC)", eh->e_type);
	if (eh->e_version != EV_CURRENT)
		return reject(c, "ELF header version %u, expected %d (EV_CURRENT)", eh->e_version,
			      EV_CURRENT);
	if (eh->e_phnum == 0)
		return reject(c, "no program headers (e_phnum 0)");
	/* The real count would be in section 0; no kernel of ours has 65535. */
	if (eh->e_phnum == PN_XNUM)
		return reject(c, "extended program header numbering (e_phnum PN_XNUM) is not supported");
	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return reject(c, "bad program header size %u (e_phentsize), expected %zu",
			      eh->e_phentsize, sizeof(Elf64_Phdr));
	return 0;
}

/* The program header table must lie wholly inside the file. */
static int check_phdr_table(struct elf_ctx *c)
{
	/* At most 65534 * 56 bytes: the product cannot overflow. */
	uint64_t size = (uint64_t)c->eh.e_phnum * c->eh.e_phentsize;
	uint64_t end;

	if (__builtin_add_overflow(c->eh.e_phoff, size, &end))
		return reject(c, "program headers at offset 0x%" PRIx64
			      " are past the end of the file (%zu bytes)", c->eh.e_phoff, c->len);
	if (end > c->len)
		return reject(c, "truncated: program headers end at byte %" PRIu64 ", file has %zu bytes",
			      end, c->len);
	return 0;
}

/* Copy out program header i (check_phdr_table has bounded the table). */
static void get_phdr(const struct elf_ctx *c, unsigned int i, Elf64_Phdr *ph)
{
	memcpy(ph, c->buf + c->eh.e_phoff + (uint64_t)i * sizeof(*ph), sizeof(*ph));
}

/* What the note walk has found so far. */
struct note_found {
	bool found;               /* a coop ABI note was seen */
	struct coop_note_abi abi; /* its payload */
	bool linux_found;         /* a Linux entry note (COOP_NOTE_TYPE_LINUX_ENTRY) was seen */
	uint64_t linux_entry;     /* its payload: the entry's virtual address */
};

/* Round a note field size up to the 4-byte alignment notes use. */
static uint64_t note_align(uint64_t n)
{
	return (n + 3) & ~(uint64_t)3;
}

static int take_coop_note(struct elf_ctx *c, unsigned int idx, uint32_t type,
			  const uint8_t *desc, uint32_t descsz, struct note_found *f)
{
	bool linux_entry = type == COOP_NOTE_TYPE_LINUX_ENTRY;
	const char *what = linux_entry ? "Linux entry" : "ABI";
	size_t want = linux_entry ? sizeof(f->linux_entry) : sizeof(f->abi);
	bool *seen = linux_entry ? &f->linux_found : &f->found;

	/* A later MINOR may append fields: take what we know, ignore the rest. */
	if (descsz < want)
		return reject(c, "malformed coop %s note in segment %u: %u descriptor bytes, "
			      "expected at least %zu", what, idx, descsz, want);
	if (*seen)
		return reject(c, "more than one coop %s note", what);
	memcpy(linux_entry ? (void *)&f->linux_entry : (void *)&f->abi, desc, want);
	*seen = true;
	return 0;
}

/*
 * Walk the notes of PT_NOTE segment idx: each is an Elf64_Nhdr, then the
 * name and the descriptor, each padded to 4 bytes.  Sizes come from the
 * file, so each one is checked against what is left of the segment.
 */
static int scan_notes(struct elf_ctx *c, unsigned int idx, const Elf64_Phdr *ph,
		      struct note_found *f)
{
	uint64_t size = ph->p_filesz, pos = 0, end;
	const uint8_t *p;

	if (!in_file(c, ph->p_offset, ph->p_filesz, &end))
		return reject(c, "truncated: note segment %u (offset 0x%" PRIx64 ", 0x%" PRIx64
			      " bytes) ends past the end of the file (0x%zx bytes)",
			      idx, ph->p_offset, ph->p_filesz, c->len);
	p = c->buf + ph->p_offset;
	while (pos < size) {
		Elf64_Nhdr nh;
		uint64_t name, desc;

		if (size - pos < sizeof(nh))
			return reject(c, "malformed note in segment %u: %" PRIu64 " stray bytes at its end",
				      idx, size - pos);
		memcpy(&nh, p + pos, sizeof(nh));
		name = pos + sizeof(nh);
		if (nh.n_namesz > size - name)
			return reject(c, "malformed note in segment %u at offset 0x%" PRIx64
				      ": name size %u runs past the end of the segment",
				      idx, pos, nh.n_namesz);
		/* The last name's padding may be missing if nothing follows. */
		if (__builtin_add_overflow(name, note_align(nh.n_namesz), &desc) || desc > size)
			desc = size;
		if (nh.n_descsz > size - desc)
			return reject(c, "malformed note in segment %u at offset 0x%" PRIx64
				      ": descriptor size %u runs past the end of the segment",
				      idx, pos, nh.n_descsz);
		if ((nh.n_type == COOP_NOTE_TYPE_ABI || nh.n_type == COOP_NOTE_TYPE_LINUX_ENTRY) &&
		    nh.n_namesz == sizeof(COOP_NOTE_NAME) &&
		    memcmp(p + name, COOP_NOTE_NAME, sizeof(COOP_NOTE_NAME)) == 0) {
			int rc = take_coop_note(c, idx, nh.n_type, p + desc, nh.n_descsz, f);

			if (rc)
				return rc;
		}
		/* Likewise the last descriptor's padding: overshooting ends the walk. */
		if (__builtin_add_overflow(desc, note_align(nh.n_descsz), &pos))
			break;
	}
	return 0;
}

/* Walk the notes of every PT_NOTE segment. */
static int walk_notes(struct elf_ctx *c, struct note_found *f)
{
	Elf64_Phdr ph;
	unsigned int i;
	int rc;

	for (i = 0; i < c->eh.e_phnum; i++) {
		get_phdr(c, i, &ph);
		if (ph.p_type != PT_NOTE)
			continue;
		rc = scan_notes(c, i, &ph, f);
		if (rc)
			return rc;
	}
	return 0;
}

/* Same MAJOR, MINOR not above ours: the rule in abi.h. */
static int check_abi_version(struct elf_ctx *c, const struct note_found *f)
{
	if (f->abi.major != COOP_ABI_MAJOR || f->abi.minor > COOP_ABI_MINOR)
		return reject(c, "guest kernel speaks coop ABI %u.%u; this coop speaks %d.%d",
			      f->abi.major, f->abi.minor, COOP_ABI_MAJOR, COOP_ABI_MINOR);
	return 0;
}

/* coop's own guest: the ABI note must be there. */
static int check_abi_note(struct elf_ctx *c, const struct note_found *f,
			  struct shim_elf_image *img)
{
	if (!f->found)
		return reject(c, "no coop ABI note (.note.coop): not a coop guest kernel");
	img->abi_major = f->abi.major;
	img->abi_minor = f->abi.minor;
	return check_abi_version(c, f);
}

/* Does [start, end) reach into the passage? */
static bool hits_passage(uint64_t start, uint64_t end)
{
	return start < COOP_GUEST_BASE + COOP_PASSAGE_SIZE && end > COOP_GUEST_BASE;
}

/* Segment idx occupies guest [start, end): is that inside the window? */
static int check_window(struct elf_ctx *c, unsigned int idx, uint64_t start, uint64_t end)
{
	if (start < c->load_min && hits_passage(start, end))
		return reject(c, "segment %u at 0x%" PRIx64 " overlaps the passage (guest RAM below 0x%" PRIx64
			      " is reserved)", idx, start, c->load_min);
	if (start < c->load_min || end > c->load_max)
		return reject(c, "segment %u [0x%" PRIx64 "-0x%" PRIx64 ") is outside guest RAM"
			      " for the kernel [0x%" PRIx64 "-0x%" PRIx64 ")%s",
			      idx, start, end, c->load_min, c->load_max,
			      start >= c->load_min ? "; a larger --mem may fit it" : "");
	return 0;
}

/* Check non-empty PT_LOAD segment idx on its own: file bytes, addresses. */
static int check_load(struct elf_ctx *c, unsigned int idx, const Elf64_Phdr *ph)
{
	uint64_t fend, vend;

	if (!in_file(c, ph->p_offset, ph->p_filesz, &fend))
		return reject(c, "truncated: segment %u (offset 0x%" PRIx64 ", 0x%" PRIx64
			      " bytes) ends past the end of the file (0x%zx bytes)",
			      idx, ph->p_offset, ph->p_filesz, c->len);
	if (__builtin_add_overflow(ph->p_vaddr, ph->p_memsz, &vend))
		return reject(c, "segment %u at 0x%" PRIx64 " (0x%" PRIx64
			      " bytes) wraps around the end of the address space",
			      idx, ph->p_vaddr, ph->p_memsz);
	return check_window(c, idx, ph->p_vaddr, vend);
}

/* Segments overlap if each starts before the other ends. */
static int check_overlap(struct elf_ctx *c, const struct shim_elf_image *img,
			 const unsigned int *phidx, const Elf64_Phdr *ph, unsigned int idx)
{
	unsigned int j;

	for (j = 0; j < img->nsegs; j++) {
		const struct shim_elf_seg *s = &img->segs[j];

		if (s->vaddr < ph->p_vaddr + ph->p_memsz && ph->p_vaddr < s->vaddr + s->memsz)
			return reject(c, "segments %u and %u overlap", phidx[j], idx);
	}
	return 0;
}

/* Check every PT_LOAD segment and record the non-empty ones in img. */
static int collect_loads(struct elf_ctx *c, struct shim_elf_image *img)
{
	unsigned int phidx[SHIM_ELF_MAX_SEGS] = { 0 }; /* program header index of segs[j] */
	Elf64_Phdr ph;
	unsigned int i;
	int rc;

	for (i = 0; i < c->eh.e_phnum; i++) {
		get_phdr(c, i, &ph);
		if (ph.p_type != PT_LOAD)
			continue;
		if (ph.p_filesz > ph.p_memsz)
			return reject(c, "segment %u has more bytes in the file (0x%" PRIx64
				      ") than in memory (0x%" PRIx64 ")", i, ph.p_filesz, ph.p_memsz);
		if (ph.p_memsz == 0) /* occupies nothing: nothing to check or load */
			continue;
		/*
		 * The host reads guest memory on the guest's behalf (a buffer to
		 * write, a frame to check): a segment it could not read would
		 * fault the host.  And W^X, as the kmod backend maps it.
		 */
		if (!(ph.p_flags & PF_R))
			return reject(c, "segment %u is not readable (p_flags %#x): every loadable "
				      "segment needs PF_R", i, (unsigned int)ph.p_flags);
		if ((ph.p_flags & (PF_W | PF_X)) == (PF_W | PF_X))
			return reject(c, "segment %u is writable and executable (p_flags %#x): "
				      "W^X", i, (unsigned int)ph.p_flags);
		rc = check_load(c, i, &ph);
		if (rc)
			return rc;
		if (img->nsegs == SHIM_ELF_MAX_SEGS)
			return reject(c, "more than %d loadable segments", SHIM_ELF_MAX_SEGS);
		rc = check_overlap(c, img, phidx, &ph, i);
		if (rc)
			return rc;
		phidx[img->nsegs] = i;
		img->segs[img->nsegs++] = (struct shim_elf_seg){
			.vaddr = ph.p_vaddr, .memsz = ph.p_memsz,
			.offset = ph.p_offset, .filesz = ph.p_filesz, .flags = ph.p_flags,
		};
	}
	if (img->nsegs == 0)
		return reject(c, "no loadable segments");
	return 0;
}

/* Fill start/end and check that the entry point is executable code. */
static int check_entry(struct elf_ctx *c, struct shim_elf_image *img)
{
	bool ok = false;
	unsigned int i;

	img->entry = c->eh.e_entry;
	img->start = UINT64_MAX;
	img->end = 0;
	for (i = 0; i < img->nsegs; i++) {
		const struct shim_elf_seg *s = &img->segs[i];
		uint64_t end = s->vaddr + s->memsz; /* checked in check_load */

		if (s->vaddr < img->start)
			img->start = s->vaddr;
		if (end > img->end)
			img->end = end;
		if ((s->flags & PF_X) && img->entry >= s->vaddr && img->entry < end)
			ok = true;
	}
	if (!ok)
		return reject(c, "entry point 0x%" PRIx64 " is not in an executable segment", img->entry);
	return 0;
}

/* What every guest kernel must pass first: headers, program headers, notes. */
static int check_headers(struct elf_ctx *c, struct note_found *f)
{
	int rc = check_ident(c);

	if (!rc)
		rc = check_ehdr(c);
	if (!rc)
		rc = check_phdr_table(c);
	if (!rc)
		rc = walk_notes(c, f);
	return rc;
}

/*
 * The ABI note is checked before the segments: for a file that is not a
 * coop guest at all, "not a coop guest kernel" is the useful reason.
 */
int shim_elf_check(const void *buf, size_t len, uint64_t load_min, uint64_t load_max,
		   struct shim_elf_image *img, char *err, size_t errlen)
{
	struct elf_ctx c = {
		.buf = buf, .len = len, .load_min = load_min, .load_max = load_max,
		.err = err, .errlen = errlen,
	};
	struct shim_elf_image out = { 0 };
	struct note_found f = { 0 };
	int rc;

	clear_err(err, errlen);
	rc = check_headers(&c, &f);
	if (!rc)
		rc = check_abi_note(&c, &f, &out);
	if (!rc)
		rc = collect_loads(&c, &out);
	if (!rc)
		rc = check_entry(&c, &out);
	if (rc)
		return rc;
	*img = out; /* only a wholly checked image reaches the caller */
	return 0;
}

int shim_elf_probe(const void *buf, size_t len, struct shim_elf_kind *kind, char *err,
		   size_t errlen)
{
	struct elf_ctx c = { .buf = buf, .len = len, .err = err, .errlen = errlen };
	struct note_found f = { 0 };
	int rc;

	clear_err(err, errlen);
	rc = check_headers(&c, &f);
	/* An ABI note is optional for a Linux guest, but checked when there. */
	if (!rc && f.found)
		rc = check_abi_version(&c, &f);
	if (rc)
		return rc;
	*kind = (struct shim_elf_kind){
		.is_linux = f.linux_found, .linux_entry = f.linux_entry,
		.phnum = c.eh.e_phnum, .phoff = c.eh.e_phoff,
	};
	return 0;
}

void shim_elf_phdr(const void *buf, const struct shim_elf_kind *kind, unsigned int i,
		   Elf64_Phdr *ph)
{
	memcpy(ph, (const uint8_t *)buf + kind->phoff + (uint64_t)i * sizeof(*ph), sizeof(*ph));
}

/* Is segment i of img inside the file and inside guest RAM? */
static int check_seg_fits(const struct shim_elf_seg *s, unsigned int i, size_t len,
			  uint64_t ram_base, uint64_t ram_size, char *err, size_t errlen)
{
	uint64_t fend, off;

	if (s->filesz > s->memsz || __builtin_add_overflow(s->offset, s->filesz, &fend) ||
	    fend > len)
		return fail(err, errlen, -EINVAL, "loadable segment %u: file bytes at 0x%" PRIx64
			    " (0x%" PRIx64 " bytes) are not inside the %zu-byte image",
			    i, s->offset, s->filesz, len);
	off = s->vaddr >= ram_base ? s->vaddr - ram_base : UINT64_MAX;
	if (off > ram_size || s->memsz > ram_size - off)
		return fail(err, errlen, -EINVAL, "loadable segment %u at 0x%" PRIx64 " (0x%" PRIx64
			    " bytes) does not fit guest RAM at 0x%" PRIx64 " (0x%" PRIx64 " bytes)",
			    i, s->vaddr, s->memsz, ram_base, ram_size);
	return 0;
}

/* Check every segment first, so that a misfit leaves RAM untouched. */
int shim_elf_load(const void *buf, size_t len, const struct shim_elf_image *img, void *ram,
		  uint64_t ram_base, uint64_t ram_size, char *err, size_t errlen)
{
	unsigned int i;
	int rc;

	clear_err(err, errlen);
	if (img->nsegs > SHIM_ELF_MAX_SEGS)
		return fail(err, errlen, -EINVAL, "image has %u segments, at most %d",
			    img->nsegs, SHIM_ELF_MAX_SEGS);
	for (i = 0; i < img->nsegs; i++) {
		rc = check_seg_fits(&img->segs[i], i, len, ram_base, ram_size, err, errlen);
		if (rc)
			return rc;
	}
	for (i = 0; i < img->nsegs; i++) {
		const struct shim_elf_seg *s = &img->segs[i];
		uint8_t *dst = (uint8_t *)ram + (s->vaddr - ram_base);

		memcpy(dst, (const uint8_t *)buf + s->offset, s->filesz);
		memset(dst + s->filesz, 0, s->memsz - s->filesz); /* bss */
	}
	return 0;
}

/* A word for what a non-regular file is, for the reason. */
static const char *file_kind(mode_t mode)
{
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	return "not a regular file";
}

static int check_stat(const struct stat *st, size_t max, char *err, size_t errlen)
{
	if (S_ISDIR(st->st_mode))
		return fail(err, errlen, -EISDIR, "is a directory, not a file");
	if (!S_ISREG(st->st_mode))
		return fail(err, errlen, -EINVAL, "is %s, not a regular file", file_kind(st->st_mode));
	if (st->st_size == 0)
		return fail(err, errlen, -EINVAL, "empty file");
	if ((uintmax_t)st->st_size > max)
		return fail(err, errlen, -EFBIG, "larger than %zu bytes", max);
	return 0;
}

/* read() may return early (signals, some filesystems): loop until done. */
static int read_all(int fd, uint8_t *p, size_t size, char *err, size_t errlen)
{
	size_t got = 0;

	while (got < size) {
		ssize_t n = read(fd, p + got, size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			return fail(err, errlen, -e, "read error: %s", strerror(e));
		}
		if (n == 0)
			return fail(err, errlen, -EIO, "file shrank while being read (%zu of %zu bytes)",
				    got, size);
		got += (size_t)n;
	}
	return 0;
}

int shim_read_file(const char *path, size_t max, void **buf, size_t *len, char *err,
		   size_t errlen)
{
	struct stat st;
	void *data;
	int fd, rc;

	clear_err(err, errlen);
	/* O_NONBLOCK: a FIFO must be refused below, not block the open. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		rc = -errno;
		return fail(err, errlen, rc, "%s", strerror(-rc));
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		fail(err, errlen, rc, "%s", strerror(-rc));
		goto err_close;
	}
	rc = check_stat(&st, max, err, errlen);
	if (rc)
		goto err_close;
	data = malloc((size_t)st.st_size);
	if (!data) {
		rc = fail(err, errlen, -ENOMEM, "out of memory for %jd bytes", (intmax_t)st.st_size);
		goto err_close;
	}
	rc = read_all(fd, data, (size_t)st.st_size, err, errlen);
	if (rc)
		goto err_free;
	close(fd);
	*buf = data;
	*len = (size_t)st.st_size;
	return 0;

err_free:
	free(data);
err_close:
	close(fd);
	return rc;
}
