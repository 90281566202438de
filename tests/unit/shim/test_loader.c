// SPDX-License-Identifier: MIT
/*
 * test_loader.c - unit tests for hypervisor-shim/core/loader.c: synthetic
 * ELF images built in memory, one test per way a file can be wrong, and the
 * real guest kernel if $COOP_GUEST names it.  Run: build/tests/test_loader
 * (TEST_LOADER_VERBOSE=1 prints every reason the loader gives).
 */
#include <check.h>

#include "unit.h"
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <coop/abi.h>

#include "core/loader.h"

/* ---- A builder for synthetic guest kernels ------------------------------ */

#define KBASE COOP_KERNEL_BASE
#define LOAD_MIN (COOP_GUEST_BASE + COOP_PASSAGE_SIZE)
#define RAM_SIZE (COOP_U64(4) << 20) /* the test guest's RAM */
#define LOAD_MAX (COOP_GUEST_BASE + RAM_SIZE)

/* The standard image: headers, a note, a text and a data+bss segment. */
#define PHOFF sizeof(Elf64_Ehdr)
#define MAX_PH 24
#define OFF_NOTE 0x600
#define OFF_TEXT 0x1000
#define TEXT_SIZE 0x180
#define OFF_DATA 0x2000
#define DATA_FILESZ 0x80
#define DATA_MEMSZ 0x1000
#define DATA_VADDR (KBASE + 0x2000)
#define ENTRY (KBASE + 0x10)
#define FILE_MAX 0x3000
#define PH_TEXT 0
#define PH_DATA 1
#define PH_NOTE 2

#define ERRLEN 256

struct builder {
	Elf64_Ehdr eh;             /* written to file[0] by build() */
	Elf64_Phdr ph[MAX_PH];     /* written to file[PHOFF] by build() */
	unsigned int nph;          /* how many of ph[] build() writes */
	uint8_t file[FILE_MAX];    /* the file's bytes */
	size_t len;                /* its length */
};

/* Append a note at file offset off; returns the bytes it takes. */
static size_t put_note(struct builder *b, size_t off, const char *name, uint32_t namesz,
		       uint32_t type, const void *desc, uint32_t descsz)
{
	Elf64_Nhdr nh = { .n_namesz = namesz, .n_descsz = descsz, .n_type = type };
	size_t name_pad = (namesz + 3u) & ~3u, desc_pad = (descsz + 3u) & ~3u;

	ck_assert_uint_le(off + sizeof(nh) + name_pad + desc_pad, FILE_MAX);
	memcpy(b->file + off, &nh, sizeof(nh));
	memcpy(b->file + off + sizeof(nh), name, namesz);
	memcpy(b->file + off + sizeof(nh) + name_pad, desc, descsz);
	return sizeof(nh) + name_pad + desc_pad;
}

/* The coop ABI note with the given version; returns its size. */
static size_t put_abi_note(struct builder *b, size_t off, uint32_t major, uint32_t minor)
{
	struct coop_note_abi abi = { .major = major, .minor = minor };

	return put_note(b, off, COOP_NOTE_NAME, sizeof(COOP_NOTE_NAME), COOP_NOTE_TYPE_ABI,
			&abi, sizeof(abi));
}

static Elf64_Phdr phdr(uint32_t type, uint32_t flags, uint64_t off, uint64_t vaddr,
		       uint64_t filesz, uint64_t memsz)
{
	return (Elf64_Phdr){
		.p_type = type, .p_flags = flags, .p_offset = off, .p_vaddr = vaddr,
		.p_paddr = vaddr, .p_filesz = filesz, .p_memsz = memsz, .p_align = 0x1000,
	};
}

/* A valid coop guest kernel; tests break one thing in it. */
static void std_image(struct builder *b)
{
	size_t i;

	memset(b, 0, sizeof(*b));
	memcpy(b->eh.e_ident, ELFMAG, SELFMAG);
	b->eh.e_ident[EI_CLASS] = ELFCLASS64;
	b->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	b->eh.e_ident[EI_VERSION] = EV_CURRENT;
	b->eh.e_type = ET_EXEC;
	b->eh.e_machine = EM_X86_64;
	b->eh.e_version = EV_CURRENT;
	b->eh.e_entry = ENTRY;
	b->eh.e_phoff = PHOFF;
	b->eh.e_ehsize = sizeof(Elf64_Ehdr);
	b->eh.e_phentsize = sizeof(Elf64_Phdr);
	b->eh.e_phnum = 3;
	b->nph = 3;
	b->ph[PH_TEXT] = phdr(PT_LOAD, PF_R | PF_X, OFF_TEXT, KBASE, TEXT_SIZE, TEXT_SIZE);
	b->ph[PH_DATA] = phdr(PT_LOAD, PF_R | PF_W, OFF_DATA, DATA_VADDR, DATA_FILESZ, DATA_MEMSZ);
	b->ph[PH_NOTE] = phdr(PT_NOTE, PF_R, OFF_NOTE, 0, 0, 0);
	b->ph[PH_NOTE].p_align = 4;
	b->ph[PH_NOTE].p_filesz = put_abi_note(b, OFF_NOTE, COOP_ABI_MAJOR, COOP_ABI_MINOR);
	for (i = 0; i < TEXT_SIZE; i++)
		b->file[OFF_TEXT + i] = (uint8_t)(0x10 + i);
	for (i = 0; i < DATA_FILESZ; i++)
		b->file[OFF_DATA + i] = (uint8_t)(0x80 + i);
	b->len = OFF_DATA + DATA_FILESZ;
}

/* Write the headers into the file (e_phoff may lie; the table is at PHOFF). */
static void build(struct builder *b)
{
	memcpy(b->file, &b->eh, sizeof(b->eh));
	memcpy(b->file + PHOFF, b->ph, b->nph * sizeof(Elf64_Phdr));
}

/* Check the image from an exactly sized copy, so ASan sees any over-read. */
static int check_range(struct builder *b, uint64_t min, uint64_t max,
		       struct shim_elf_image *img, char *err)
{
	void *copy;
	int rc;

	build(b);
	copy = malloc(b->len ? b->len : 1);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, b->file, b->len);
	rc = shim_elf_check(copy, b->len, min, max, img, err, ERRLEN);
	free(copy);
	if (getenv("TEST_LOADER_VERBOSE"))
		printf("rc %d: %s\n", rc, err);
	return rc;
}

static int check_image(struct builder *b, struct shim_elf_image *img, char *err)
{
	return check_range(b, LOAD_MIN, LOAD_MAX, img, err);
}

/* The file must be refused with -ENOEXEC and a reason containing phrase. */
#define expect_reject(b, phrase)                                                    \
	do {                                                                        \
		struct shim_elf_image img_;                                         \
		char err_[ERRLEN];                                                  \
		int rc_ = check_image((b), &img_, err_);                            \
		ck_assert_msg(rc_ == -ENOEXEC, "rc %d, reason \"%s\"", rc_, err_); \
		ck_assert_msg(strstr(err_, (phrase)) != NULL,                       \
			      "reason \"%s\" lacks \"%s\"", err_, (phrase));        \
		ck_assert_ptr_null(strchr(err_, '\n'));                             \
	} while (0)

#define expect_accept(b, img)                                                    \
	do {                                                                     \
		char err_[ERRLEN];                                               \
		int rc_ = check_image((b), (img), err_);                         \
		ck_assert_msg(rc_ == 0, "rc %d, reason \"%s\"", rc_, err_);      \
		ck_assert_str_eq(err_, "");                                      \
	} while (0)

/* ---- The valid image ---------------------------------------------------- */

START_TEST(test_valid_image)
{
	struct builder b;
	struct shim_elf_image img;

	std_image(&b);
	memset(&img, 0xee, sizeof(img));
	expect_accept(&b, &img);
	ck_assert_uint_eq(img.entry, ENTRY);
	ck_assert_uint_eq(img.start, KBASE);
	ck_assert_uint_eq(img.end, DATA_VADDR + DATA_MEMSZ);
	ck_assert_uint_eq(img.abi_major, COOP_ABI_MAJOR);
	ck_assert_uint_eq(img.abi_minor, COOP_ABI_MINOR);
	ck_assert_uint_eq(img.nsegs, 2);
	ck_assert_uint_eq(img.segs[0].vaddr, KBASE);
	ck_assert_uint_eq(img.segs[0].memsz, TEXT_SIZE);
	ck_assert_uint_eq(img.segs[0].offset, OFF_TEXT);
	ck_assert_uint_eq(img.segs[0].filesz, TEXT_SIZE);
	ck_assert_uint_eq(img.segs[0].flags, PF_R | PF_X);
	ck_assert_uint_eq(img.segs[1].vaddr, DATA_VADDR);
	ck_assert_uint_eq(img.segs[1].memsz, DATA_MEMSZ);
	ck_assert_uint_eq(img.segs[1].offset, OFF_DATA);
	ck_assert_uint_eq(img.segs[1].filesz, DATA_FILESZ);
	ck_assert_uint_eq(img.segs[1].flags, PF_R | PF_W);
}
END_TEST

#define CANARY 0xa5

/* RAM for the test guest, filled with canary bytes. */
static uint8_t *canary_ram(size_t size)
{
	uint8_t *ram = malloc(size);

	ck_assert_ptr_nonnull(ram);
	memset(ram, CANARY, size);
	return ram;
}

/* Bytes of ram[from, to) that are not the canary. */
static size_t touched(const uint8_t *ram, size_t from, size_t to)
{
	size_t i, n = 0;

	for (i = from; i < to; i++)
		n += ram[i] != CANARY;
	return n;
}

START_TEST(test_load)
{
	const size_t text = KBASE - COOP_GUEST_BASE, data = DATA_VADDR - COOP_GUEST_BASE;
	struct shim_elf_image img;
	struct builder b;
	char err[ERRLEN];
	uint8_t *ram;
	size_t i;
	int rc;

	std_image(&b);
	expect_accept(&b, &img);
	ram = canary_ram(RAM_SIZE);
	rc = shim_elf_load(b.file, b.len, &img, ram, COOP_GUEST_BASE, RAM_SIZE, err, ERRLEN);
	ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
	ck_assert_mem_eq(ram + text, b.file + OFF_TEXT, TEXT_SIZE);
	ck_assert_mem_eq(ram + data, b.file + OFF_DATA, DATA_FILESZ);
	for (i = data + DATA_FILESZ; i < data + DATA_MEMSZ; i++)
		ck_assert_msg(ram[i] == 0, "bss byte 0x%zx is 0x%x", i, ram[i]);
	ck_assert_uint_eq(touched(ram, 0, text), 0);
	ck_assert_uint_eq(touched(ram, text + TEXT_SIZE, data), 0);
	ck_assert_uint_eq(touched(ram, data + DATA_MEMSZ, RAM_SIZE), 0);
	free(ram);
}
END_TEST

/* A misfit is found before anything is copied: RAM stays untouched. */
START_TEST(test_load_ram_too_small)
{
	const size_t size = DATA_VADDR + DATA_MEMSZ / 2 - COOP_GUEST_BASE;
	struct shim_elf_image img;
	struct builder b;
	char err[ERRLEN];
	uint8_t *ram;
	int rc;

	std_image(&b);
	expect_accept(&b, &img);
	ram = canary_ram(size);
	rc = shim_elf_load(b.file, b.len, &img, ram, COOP_GUEST_BASE, size, err, ERRLEN);
	ck_assert_int_eq(rc, -EINVAL);
	ck_assert_msg(strstr(err, "does not fit guest RAM"), "reason \"%s\"", err);
	ck_assert_uint_eq(touched(ram, 0, size), 0);
	/* RAM that starts above the kernel. */
	rc = shim_elf_load(b.file, b.len, &img, ram, KBASE + 0x1000, size, err, ERRLEN);
	ck_assert_int_eq(rc, -EINVAL);
	ck_assert_msg(strstr(err, "does not fit guest RAM"), "reason \"%s\"", err);
	ck_assert_uint_eq(touched(ram, 0, size), 0);
	/* A buffer shorter than the checked image. */
	rc = shim_elf_load(b.file, b.len - 1, &img, ram, COOP_GUEST_BASE, size, err, ERRLEN);
	ck_assert_int_eq(rc, -EINVAL);
	ck_assert_msg(strstr(err, "not inside the"), "reason \"%s\"", err);
	free(ram);
}
END_TEST

/* Empty PT_LOADs are ignored; a larger future note payload is accepted. */
START_TEST(test_tolerated)
{
	struct shim_elf_image img;
	struct builder b;
	uint32_t desc[4] = { COOP_ABI_MAJOR, COOP_ABI_MINOR, 7, 7 };

	std_image(&b);
	b.ph[b.nph++] = phdr(PT_LOAD, PF_R, 0, 0, 0, 0);
	b.eh.e_phnum = b.nph;
	expect_accept(&b, &img);
	ck_assert_uint_eq(img.nsegs, 2);

	std_image(&b);
	b.ph[PH_NOTE].p_filesz = put_note(&b, OFF_NOTE, COOP_NOTE_NAME, 5, COOP_NOTE_TYPE_ABI,
					  desc, sizeof(desc));
	expect_accept(&b, &img);
}
END_TEST

/* ---- ELF header --------------------------------------------------------- */

START_TEST(test_bad_magic)
{
	struct builder b;

	std_image(&b);
	b.eh.e_ident[EI_MAG1] = 'X';
	expect_reject(&b, "not an ELF file (bad magic)");
	std_image(&b);
	b.len = 3; /* shorter than the magic */
	expect_reject(&b, "not an ELF file");
	std_image(&b);
	b.len = 0;
	expect_reject(&b, "not an ELF file");
}
END_TEST

START_TEST(test_short_file)
{
	struct builder b;

	std_image(&b);
	b.len = sizeof(Elf64_Ehdr) - 1;
	expect_reject(&b, "truncated: the ELF header needs 64 bytes, file has 63 bytes");
	std_image(&b);
	b.len = EI_NIDENT - 1;
	expect_reject(&b, "truncated");
}
END_TEST

START_TEST(test_elfclass32)
{
	struct builder b;

	std_image(&b);
	b.eh.e_ident[EI_CLASS] = ELFCLASS32;
	expect_reject(&b, "32-bit ELF (ELFCLASS32)");
	b.eh.e_ident[EI_CLASS] = 7;
	expect_reject(&b, "bad ELF class 7");
}
END_TEST

START_TEST(test_big_endian)
{
	struct builder b;

	std_image(&b);
	b.eh.e_ident[EI_DATA] = ELFDATA2MSB;
	expect_reject(&b, "big-endian ELF");
}
END_TEST

START_TEST(test_ei_version)
{
	struct builder b;

	std_image(&b);
	b.eh.e_ident[EI_VERSION] = EV_NONE;
	expect_reject(&b, "ELF identification version 0, expected 1");
	std_image(&b);
	b.eh.e_version = 2;
	expect_reject(&b, "ELF header version 2, expected 1");
}
END_TEST

START_TEST(test_wrong_machine)
{
	struct builder b;

	std_image(&b);
	b.eh.e_machine = EM_AARCH64;
	expect_reject(&b, "ELF for machine 183, not x86-64 (62)");
}
END_TEST

START_TEST(test_et_dyn)
{
	struct builder b;

	std_image(&b);
	b.eh.e_type = ET_DYN;
	expect_reject(&b, "not an executable (e_type 3, expected ET_EXEC)");
}
END_TEST

START_TEST(test_bad_phentsize)
{
	struct builder b;

	std_image(&b);
	b.eh.e_phentsize = sizeof(Elf32_Phdr);
	expect_reject(&b, "e_phentsize");
}
END_TEST

START_TEST(test_no_phdrs)
{
	struct builder b;

	std_image(&b);
	b.eh.e_phnum = 0;
	expect_reject(&b, "no program headers");
	b.eh.e_phnum = PN_XNUM;
	expect_reject(&b, "PN_XNUM");
}
END_TEST

START_TEST(test_phdrs_past_eof)
{
	struct builder b;
	char want[64];

	std_image(&b);
	b.eh.e_phoff = b.len - sizeof(Elf64_Phdr);
	snprintf(want, sizeof(want), "program headers end at byte %zu, file has %zu bytes",
		 (size_t)b.len + 2 * sizeof(Elf64_Phdr), b.len);
	expect_reject(&b, want);
}
END_TEST

START_TEST(test_phoff_overflow)
{
	struct builder b;

	std_image(&b);
	b.eh.e_phoff = UINT64_MAX - 8;
	expect_reject(&b, "program headers at offset 0xfffffffffffffff7 are past the end of the file");
}
END_TEST

/* ---- Loadable segments -------------------------------------------------- */

START_TEST(test_segment_past_eof)
{
	struct builder b;

	std_image(&b);
	b.ph[PH_DATA].p_offset = OFF_DATA + 1;
	expect_reject(&b, "truncated: segment 1 (offset 0x2001, 0x80 bytes) ends past the end of "
			  "the file (0x2080 bytes)");
	/* offset + filesz wraps around */
	b.ph[PH_DATA].p_offset = UINT64_MAX - 0x10;
	expect_reject(&b, "truncated: segment 1");
}
END_TEST

START_TEST(test_filesz_gt_memsz)
{
	struct builder b;

	std_image(&b);
	b.ph[PH_DATA].p_memsz = DATA_FILESZ - 1;
	expect_reject(&b, "segment 1 has more bytes in the file (0x80) than in memory (0x7f)");
}
END_TEST

START_TEST(test_segment_permissions)
{
	struct builder b;

	std_image(&b);
	b.ph[PH_DATA].p_flags = 0; /* the host could not read it on the guest's behalf */
	expect_reject(&b, "segment 1 is not readable (p_flags 0): every loadable segment needs PF_R");
	std_image(&b);
	b.ph[PH_DATA].p_flags = PF_W;
	expect_reject(&b, "segment 1 is not readable (p_flags 0x2)");
	std_image(&b);
	b.ph[PH_TEXT].p_flags = PF_R | PF_W | PF_X;
	expect_reject(&b, "segment 0 is writable and executable (p_flags 0x7): W^X");
}
END_TEST

START_TEST(test_vaddr_overflow)
{
	struct builder b;

	std_image(&b);
	b.ph[PH_DATA].p_vaddr = UINT64_MAX - 0x10;
	expect_reject(&b, "segment 1 at 0xffffffffffffffef (0x1000 bytes) wraps around");
}
END_TEST

START_TEST(test_overlaps_passage)
{
	struct builder b;

	std_image(&b);
	b.ph[PH_DATA].p_vaddr = COOP_GUEST_BASE;
	expect_reject(&b, "segment 1 at 0x200000000000 overlaps the passage (guest RAM below "
			  "0x200000010000 is reserved)");
	/* starts below guest RAM, reaches into the passage */
	b.ph[PH_DATA].p_vaddr = COOP_GUEST_BASE - 0x800;
	expect_reject(&b, "overlaps the passage");
	/* the passage's last byte */
	b.ph[PH_DATA].p_vaddr = LOAD_MIN - 1;
	expect_reject(&b, "overlaps the passage");
	/* below a higher load_min but above the passage: outside, not passage */
	{
		struct shim_elf_image img;
		char err[ERRLEN];
		int rc;

		std_image(&b);
		b.ph[PH_DATA].p_vaddr = KBASE - DATA_MEMSZ;
		rc = check_range(&b, KBASE, LOAD_MAX, &img, err);
		ck_assert_int_eq(rc, -ENOEXEC);
		ck_assert_msg(strstr(err, "segment 1 [0x2000000ff000-0x200000100000) is outside guest "
				     "RAM for the kernel [0x200000100000-0x200000400000)") &&
			      !strstr(err, "--mem"), "reason \"%s\"", err);
	}
	/* far below guest RAM: a normal Linux binary's address */
	std_image(&b);
	b.ph[PH_DATA].p_vaddr = 0x400000;
	expect_reject(&b, "segment 1 [0x400000-0x401000) is outside guest RAM for the kernel "
			  "[0x200000010000-0x200000400000)");
}
END_TEST

START_TEST(test_above_load_max)
{
	struct builder b;

	std_image(&b);
	b.ph[PH_DATA].p_vaddr = LOAD_MAX - 0x800;
	expect_reject(&b, "segment 1 [0x2000003ff800-0x200000400800) is outside guest RAM for the "
			  "kernel [0x200000010000-0x200000400000)");
	expect_reject(&b, "--mem");
	/* ending exactly at load_max is fine */
	b.ph[PH_DATA].p_vaddr = LOAD_MAX - DATA_MEMSZ;
	expect_accept(&b, &(struct shim_elf_image){ 0 });
}
END_TEST

START_TEST(test_overlapping_segments)
{
	struct builder b;

	std_image(&b);
	b.ph[PH_DATA].p_vaddr = KBASE + TEXT_SIZE - 1;
	expect_reject(&b, "segments 0 and 1 overlap");
	/* the other way round, and touching (not overlapping) is fine */
	b.ph[PH_DATA].p_vaddr = KBASE - DATA_MEMSZ + 1;
	expect_reject(&b, "segments 0 and 1 overlap");
	b.ph[PH_DATA].p_vaddr = KBASE - DATA_MEMSZ;
	expect_accept(&b, &(struct shim_elf_image){ 0 });
}
END_TEST

/* n bss-only segments after the text one, one page apart. */
static void many_segments(struct builder *b, unsigned int n)
{
	unsigned int i;

	std_image(b);
	b->ph[PH_DATA] = phdr(PT_NULL, 0, 0, 0, 0, 0);
	for (i = 0; i < n; i++)
		b->ph[b->nph++] = phdr(PT_LOAD, PF_R | PF_W, 0, KBASE + 0x1000 * (i + 1), 0, 0x1000);
	b->eh.e_phnum = b->nph;
}

START_TEST(test_too_many_segments)
{
	struct shim_elf_image img;
	struct builder b;

	many_segments(&b, SHIM_ELF_MAX_SEGS - 1);
	expect_accept(&b, &img);
	ck_assert_uint_eq(img.nsegs, SHIM_ELF_MAX_SEGS);
	ck_assert_uint_eq(img.end, KBASE + 0x1000 * SHIM_ELF_MAX_SEGS);
	many_segments(&b, SHIM_ELF_MAX_SEGS);
	expect_reject(&b, "more than 16 loadable segments");
}
END_TEST

START_TEST(test_no_load)
{
	struct builder b;

	std_image(&b);
	b.ph[PH_TEXT].p_type = PT_NULL;
	b.ph[PH_DATA].p_type = PT_NULL;
	expect_reject(&b, "no loadable segments");
	/* only empty ones */
	b.ph[PH_TEXT] = phdr(PT_LOAD, PF_R | PF_X, 0, KBASE, 0, 0);
	expect_reject(&b, "no loadable segments");
}
END_TEST

START_TEST(test_entry_not_exec)
{
	struct builder b;

	std_image(&b);
	b.eh.e_entry = DATA_VADDR + 0x10; /* in the data segment */
	expect_reject(&b, "entry point 0x200000102010 is not in an executable segment");
	b.eh.e_entry = KBASE + TEXT_SIZE; /* one past the text */
	expect_reject(&b, "is not in an executable segment");
	b.eh.e_entry = 0;
	expect_reject(&b, "is not in an executable segment");
	b.eh.e_entry = KBASE + TEXT_SIZE - 1; /* last byte of text: fine */
	expect_accept(&b, &(struct shim_elf_image){ 0 });
}
END_TEST

/* ---- The coop ABI note -------------------------------------------------- */

START_TEST(test_missing_note)
{
	struct builder b;
	uint32_t desc[2] = { COOP_ABI_MAJOR, COOP_ABI_MINOR };

	std_image(&b);
	b.ph[PH_NOTE].p_type = PT_NULL;
	expect_reject(&b, "no coop ABI note (.note.coop): not a coop guest kernel");
	/* a note with the wrong name, or the wrong type, is not it */
	std_image(&b);
	b.ph[PH_NOTE].p_filesz = put_note(&b, OFF_NOTE, "GNU", 4, COOP_NOTE_TYPE_ABI, desc,
					  sizeof(desc));
	expect_reject(&b, "no coop ABI note");
	std_image(&b);
	put_note(&b, OFF_NOTE, COOP_NOTE_NAME, 5, COOP_NOTE_TYPE_ABI + 1, desc, sizeof(desc));
	expect_reject(&b, "no coop ABI note");
	/* an empty PT_NOTE */
	std_image(&b);
	b.ph[PH_NOTE].p_filesz = 0;
	expect_reject(&b, "no coop ABI note");
}
END_TEST

START_TEST(test_malformed_note)
{
	struct builder b;
	uint32_t desc[2] = { COOP_ABI_MAJOR, COOP_ABI_MINOR };

	std_image(&b);
	put_note(&b, OFF_NOTE, COOP_NOTE_NAME, 5, COOP_NOTE_TYPE_ABI, desc, sizeof(desc));
	((Elf64_Nhdr *)(b.file + OFF_NOTE))->n_namesz = UINT32_MAX;
	expect_reject(&b, "malformed note in segment 2 at offset 0x0: name size 4294967295 runs past");
	std_image(&b);
	((Elf64_Nhdr *)(b.file + OFF_NOTE))->n_descsz = UINT32_MAX;
	expect_reject(&b, "descriptor size 4294967295 runs past the end of the segment");
	std_image(&b);
	((Elf64_Nhdr *)(b.file + OFF_NOTE))->n_descsz = 12; /* one word too many */
	expect_reject(&b, "descriptor size 12 runs past");
	/* a coop note too short for the version */
	std_image(&b);
	b.ph[PH_NOTE].p_filesz = put_note(&b, OFF_NOTE, COOP_NOTE_NAME, 5, COOP_NOTE_TYPE_ABI,
					  desc, 4);
	expect_reject(&b, "4 descriptor bytes, expected at least 8");
	/* bytes after the last note that cannot be a note header */
	std_image(&b);
	b.ph[PH_NOTE].p_filesz += 4;
	expect_reject(&b, "4 stray bytes");
	/* the note segment itself is outside the file */
	std_image(&b);
	b.ph[PH_NOTE].p_offset = b.len - 8;
	expect_reject(&b, "truncated: note segment 2");
	b.ph[PH_NOTE].p_offset = UINT64_MAX;
	expect_reject(&b, "truncated: note segment 2");
}
END_TEST

/* Every note in every PT_NOTE segment is looked at. */
START_TEST(test_note_among_others)
{
	struct shim_elf_image img;
	struct builder b;
	uint8_t build_id[20] = { 1, 2, 3 };
	size_t n;

	/* after a GNU build-id note in the same segment */
	std_image(&b);
	n = put_note(&b, OFF_NOTE, "GNU", 4, NT_GNU_BUILD_ID, build_id, sizeof(build_id));
	n += put_abi_note(&b, OFF_NOTE + n, COOP_ABI_MAJOR, COOP_ABI_MINOR);
	b.ph[PH_NOTE].p_filesz = n;
	expect_accept(&b, &img);
	ck_assert_uint_eq(img.abi_major, COOP_ABI_MAJOR);
	/* in a second PT_NOTE segment */
	std_image(&b);
	b.ph[PH_NOTE].p_filesz = put_note(&b, OFF_NOTE, "GNU", 4, NT_GNU_BUILD_ID, build_id,
					  sizeof(build_id));
	b.ph[b.nph] = phdr(PT_NOTE, PF_R, OFF_NOTE + 0x100, 0, 0, 0);
	b.ph[b.nph++].p_filesz = put_abi_note(&b, OFF_NOTE + 0x100, COOP_ABI_MAJOR, COOP_ABI_MINOR);
	b.eh.e_phnum = b.nph;
	expect_accept(&b, &img);
	/* two coop notes are one too many */
	std_image(&b);
	n = put_abi_note(&b, OFF_NOTE, COOP_ABI_MAJOR, COOP_ABI_MINOR);
	n += put_abi_note(&b, OFF_NOTE + n, COOP_ABI_MAJOR, COOP_ABI_MINOR);
	b.ph[PH_NOTE].p_filesz = n;
	expect_reject(&b, "more than one coop ABI note");
}
END_TEST

START_TEST(test_major_mismatch)
{
	struct builder b;
	char want[80];

	std_image(&b);
	put_abi_note(&b, OFF_NOTE, COOP_ABI_MAJOR + 1, 0);
	snprintf(want, sizeof(want), "guest kernel speaks coop ABI %d.0; this coop speaks %d.%d",
		 COOP_ABI_MAJOR + 1, COOP_ABI_MAJOR, COOP_ABI_MINOR);
	expect_reject(&b, want);
	put_abi_note(&b, OFF_NOTE, COOP_ABI_MAJOR - 1, COOP_ABI_MINOR);
	expect_reject(&b, "guest kernel speaks coop ABI");
}
END_TEST

START_TEST(test_minor)
{
	struct shim_elf_image img;
	struct builder b;
	char want[80];
	uint32_t minor;

	std_image(&b);
	put_abi_note(&b, OFF_NOTE, COOP_ABI_MAJOR, COOP_ABI_MINOR + 1);
	snprintf(want, sizeof(want), "guest kernel speaks coop ABI %d.%d; this coop speaks %d.%d",
		 COOP_ABI_MAJOR, COOP_ABI_MINOR + 1, COOP_ABI_MAJOR, COOP_ABI_MINOR);
	expect_reject(&b, want);
	/* an older guest (same MAJOR, MINOR up to ours) is served */
	for (minor = 0; minor <= COOP_ABI_MINOR; minor++) {
		put_abi_note(&b, OFF_NOTE, COOP_ABI_MAJOR, minor);
		expect_accept(&b, &img);
		ck_assert_uint_eq(img.abi_minor, minor);
	}
}
END_TEST

/* ---- Robustness --------------------------------------------------------- */

/* Every proper prefix of the image is refused, and read within bounds. */
START_TEST(test_every_truncation)
{
	struct shim_elf_image img;
	struct builder b;
	char err[ERRLEN];
	size_t full;

	std_image(&b);
	full = b.len;
	for (b.len = 0; b.len < full; b.len++) {
		int rc = check_image(&b, &img, err);

		ck_assert_msg(rc == -ENOEXEC && err[0], "length %zu: rc %d \"%s\"", b.len, rc, err);
	}
}
END_TEST

/* Random bytes in the headers and note: never a crash, only clean answers. */
START_TEST(test_mutations)
{
	uint64_t x = 0x9e3779b97f4a7c15ull; /* xorshift64 state */
	struct shim_elf_image img;
	struct builder b;
	char err[ERRLEN];
	int i, j, accepted = 0;

	for (i = 0; i < 20000; i++) {
		std_image(&b);
		build(&b);
		for (j = 0; j < 1 + i % 4; j++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			b.file[(x >> 8) % (OFF_NOTE + 0x20)] = (uint8_t)x;
		}
		memcpy(&b.eh, b.file, sizeof(b.eh));
		memcpy(b.ph, b.file + PHOFF, sizeof(b.ph));
		if (check_image(&b, &img, err) != 0) {
			ck_assert_msg(err[0], "mutation %d: no reason", i);
			continue;
		}
		accepted++;
		ck_assert_uint_ge(img.nsegs, 1);
		ck_assert_uint_le(img.nsegs, SHIM_ELF_MAX_SEGS);
		for (j = 0; j < (int)img.nsegs; j++) {
			ck_assert_uint_ge(img.segs[j].vaddr, LOAD_MIN);
			ck_assert_uint_le(img.segs[j].vaddr + img.segs[j].memsz, LOAD_MAX);
			ck_assert_uint_le(img.segs[j].offset + img.segs[j].filesz, b.len);
		}
	}
	ck_assert_int_gt(accepted, 0); /* harmless mutations (padding) still pass */
}
END_TEST

/* A short err buffer gets a truncated, terminated reason; NULL is allowed. */
START_TEST(test_small_err_buffer)
{
	struct shim_elf_image img;
	struct builder b;
	char *err = malloc(8);
	int rc;

	std_image(&b);
	b.eh.e_machine = EM_AARCH64;
	build(&b);
	rc = shim_elf_check(b.file, b.len, LOAD_MIN, LOAD_MAX, &img, err, 8);
	ck_assert_int_eq(rc, -ENOEXEC);
	ck_assert_str_eq(err, "ELF for");
	rc = shim_elf_check(b.file, b.len, LOAD_MIN, LOAD_MAX, &img, NULL, 0);
	ck_assert_int_eq(rc, -ENOEXEC);
	free(err);
}
END_TEST

/* ---- shim_read_file ----------------------------------------------------- */

static char tmpdir[64];

static void make_tmpdir(void)
{
	strcpy(tmpdir, "/tmp/test_loader.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "test_loader: could not remove %s\n", tmpdir);
}

/* tmpdir/name with size bytes of a pattern; returns its path. */
static const char *make_file(const char *name, size_t size)
{
	static char path[128];
	FILE *f;
	size_t i;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	for (i = 0; i < size; i++)
		fputc((int)(i * 7 % 251), f);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

/* shim_read_file must fail with rc and a reason containing phrase. */
#define expect_read_fail(path, max, rc, phrase)                                         \
	do {                                                                            \
		void *buf_ = (void *)0x1;                                               \
		size_t len_ = 7;                                                        \
		char err_[ERRLEN];                                                      \
		int rc_ = shim_read_file((path), (max), &buf_, &len_, err_, ERRLEN);    \
		ck_assert_msg(rc_ == (rc), "rc %d, reason \"%s\"", rc_, err_);          \
		ck_assert_msg(strstr(err_, (phrase)) != NULL, "reason \"%s\" lacks \"%s\"", \
			      err_, (phrase));                                          \
		ck_assert_ptr_eq(buf_, (void *)0x1);                                    \
		ck_assert_uint_eq(len_, 7);                                             \
	} while (0)

START_TEST(test_read_missing)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/no-such-file", tmpdir);
	expect_read_fail(path, SHIM_ELF_MAX_FILE, -ENOENT, "No such file or directory");
}
END_TEST

START_TEST(test_read_directory)
{
	expect_read_fail(tmpdir, SHIM_ELF_MAX_FILE, -EISDIR, "is a directory, not a file");
}
END_TEST

START_TEST(test_read_fifo)
{
	char path[128];

	/* Opening a FIFO for reading would block without O_NONBLOCK. */
	snprintf(path, sizeof(path), "%s/fifo", tmpdir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	expect_read_fail(path, SHIM_ELF_MAX_FILE, -EINVAL, "is a FIFO, not a regular file");
}
END_TEST

START_TEST(test_read_empty)
{
	expect_read_fail(make_file("empty", 0), SHIM_ELF_MAX_FILE, -EINVAL, "empty file");
}
END_TEST

START_TEST(test_read_too_large)
{
	const char *path = make_file("big", 101);

	expect_read_fail(path, 100, -EFBIG, "larger than 100 bytes");
	expect_read_fail(path, 0, -EFBIG, "larger than 0 bytes");
}
END_TEST

START_TEST(test_read_good)
{
	const char *path = make_file("good", 100000);
	char err[ERRLEN];
	uint8_t *want;
	void *buf;
	size_t len, i;
	int rc;

	rc = shim_read_file(path, 100000, &buf, &len, err, ERRLEN); /* exactly max */
	ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
	ck_assert_uint_eq(len, 100000);
	want = malloc(len);
	for (i = 0; i < len; i++)
		want[i] = (uint8_t)(i * 7 % 251);
	ck_assert_mem_eq(buf, want, len);
	free(want);
	free(buf);
}
END_TEST

/* ---- The real guest kernel, if it has been built ------------------------ */

START_TEST(test_real_guest)
{
	const char *path = getenv("COOP_GUEST");
	const uint64_t ram = COOP_U64(64) << 20;
	struct shim_elf_image img;
	char err[ERRLEN];
	void *buf, *mem;
	size_t len;
	int rc;

	if (!path || access(path, F_OK) != 0)
		return; /* not built yet: not this unit test's requirement */
	rc = shim_read_file(path, SHIM_ELF_MAX_FILE, &buf, &len, err, ERRLEN);
	ck_assert_msg(rc == 0, "%s: %s", path, err);
	rc = shim_elf_check(buf, len, LOAD_MIN, COOP_GUEST_BASE + ram, &img, err, ERRLEN);
	ck_assert_msg(rc == 0, "%s: %s", path, err);
	ck_assert_uint_eq(img.abi_major, COOP_ABI_MAJOR);
	mem = calloc(1, ram);
	ck_assert_ptr_nonnull(mem);
	rc = shim_elf_load(buf, len, &img, mem, COOP_GUEST_BASE, ram, err, ERRLEN);
	ck_assert_msg(rc == 0, "%s: %s", path, err);
	free(mem);
	free(buf);
}
END_TEST

/* ---- Runner ------------------------------------------------------------- */

Suite *unit_suite(void)
{
	Suite *s = suite_create("loader");
	TCase *ok = tcase_create("valid"), *ehdr = tcase_create("ehdr");
	TCase *load = tcase_create("segments"), *note = tcase_create("note");
	TCase *robust = tcase_create("robustness"), *file = tcase_create("read_file");
	TCase *real = tcase_create("real_guest");

	tcase_add_test(ok, test_valid_image);
	tcase_add_test(ok, test_load);
	tcase_add_test(ok, test_load_ram_too_small);
	tcase_add_test(ok, test_tolerated);
	suite_add_tcase(s, ok);

	tcase_add_test(ehdr, test_bad_magic);
	tcase_add_test(ehdr, test_short_file);
	tcase_add_test(ehdr, test_elfclass32);
	tcase_add_test(ehdr, test_big_endian);
	tcase_add_test(ehdr, test_ei_version);
	tcase_add_test(ehdr, test_wrong_machine);
	tcase_add_test(ehdr, test_et_dyn);
	tcase_add_test(ehdr, test_bad_phentsize);
	tcase_add_test(ehdr, test_no_phdrs);
	tcase_add_test(ehdr, test_phdrs_past_eof);
	tcase_add_test(ehdr, test_phoff_overflow);
	suite_add_tcase(s, ehdr);

	tcase_add_test(load, test_segment_past_eof);
	tcase_add_test(load, test_filesz_gt_memsz);
	tcase_add_test(load, test_segment_permissions);
	tcase_add_test(load, test_vaddr_overflow);
	tcase_add_test(load, test_overlaps_passage);
	tcase_add_test(load, test_above_load_max);
	tcase_add_test(load, test_overlapping_segments);
	tcase_add_test(load, test_too_many_segments);
	tcase_add_test(load, test_no_load);
	tcase_add_test(load, test_entry_not_exec);
	suite_add_tcase(s, load);

	tcase_add_test(note, test_missing_note);
	tcase_add_test(note, test_malformed_note);
	tcase_add_test(note, test_note_among_others);
	tcase_add_test(note, test_major_mismatch);
	tcase_add_test(note, test_minor);
	suite_add_tcase(s, note);

	tcase_add_test(robust, test_every_truncation);
	tcase_add_test(robust, test_mutations);
	tcase_add_test(robust, test_small_err_buffer);
	suite_add_tcase(s, robust);

	tcase_add_checked_fixture(file, make_tmpdir, remove_tmpdir);
	tcase_add_test(file, test_read_missing);
	tcase_add_test(file, test_read_directory);
	tcase_add_test(file, test_read_fifo);
	tcase_add_test(file, test_read_empty);
	tcase_add_test(file, test_read_too_large);
	tcase_add_test(file, test_read_good);
	suite_add_tcase(s, file);

	tcase_set_timeout(real, 60);
	tcase_add_test(real, test_real_guest);
	suite_add_tcase(s, real);
	return s;
}

