/* SPDX-License-Identifier: MIT */
/*
 * cobd.c - the block device's host side: raw image files (or a part of
 * one: offset=BYTES, partition=N from its MBR), several units, read-only
 * units.  A request names a guest buffer; the bytes move between the
 * image and guest memory with pread/pwrite, no copy in between.  Every
 * guest-supplied offset, length and address is checked; host I/O errors
 * become error replies, never corruption or a host crash.  A unit's bytes
 * are locked (OFD locks: for writing, or for reading if ro) for the whole
 * run, so that a second coop cannot write under a running guest; an image
 * that shrinks under the guest puts its unit in a sticky error state.
 *   --disk cobdN=PATH[,ro][,offset=BYTES|,partition=N]
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/shim.h"
#include "devices/devices.h"
#include "devices/mbr.h"
#include "util/util.h"

struct shim_cobd {
	unsigned int unit; /* N of cobdN */
	uint64_t last_seq; /* the last request served: a fault plan may damage its data */
	uint64_t last_addr; /* ... the guest buffer a read filled ... */
	uint32_t last_len;  /* ... and how many bytes (0: not a successful read) */
	uint64_t last_offset; /* ... from this byte of the unit */
	int fd;            /* the image */
	char *path;        /* ... its name, for messages */
	dev_t dev;         /* ... and identity: one image may back two units */
	ino_t ino;
	bool ro;           /* refuse writes */
	bool broken;       /* the image shrank under the guest: every request fails (sticky) */
	uint64_t base;     /* byte offset of the unit in the image */
	uint64_t size;     /* bytes, a multiple of COOP_COBD_SECTOR */
	uint64_t image_size; /* bytes of the whole image when it was opened */
};

/*
 * One option of a spec: ro, offset=BYTES, partition=N.  0, or -EINVAL
 * with why naming the option.  Numbers are strict (util.h): strtol took
 * partition=4294967297 for partition 1 and offset=-512 for 2^64-512.
 */
static int parse_opt(const char *opt, bool *ro, uint64_t *offset, unsigned int *part, char *why,
		     size_t len)
{
	uint64_t v;

	if (!strcmp(opt, "ro")) {
		*ro = true;
		return 0;
	}
	if (!strncmp(opt, "offset=", 7)) {
		if (coop_parse_u64(opt + 7, UINT64_MAX, offset)) {
			snprintf(why, len, "%s: expected a number of bytes, a multiple of 512",
				 opt);
			return -EINVAL;
		}
		return 0;
	}
	if (!strncmp(opt, "partition=", 10)) {
		if (coop_parse_u64(opt + 10, 4, &v) || v < 1) {
			snprintf(why, len, "%s: expected a primary partition 1..4", opt);
			return -EINVAL;
		}
		*part = (unsigned int)v;
		return 0;
	}
	snprintf(why, len, "unknown option '%s' (ro, offset=BYTES, partition=N)", opt);
	return -EINVAL;
}

static uint64_t image_size(int fd, const struct stat *st)
{
	uint64_t size = 0;

	if (S_ISBLK(st->st_mode) && ioctl(fd, BLKGETSIZE64, &size) == 0)
		return size;
	return (uint64_t)st->st_size;
}

/* Where the unit lies in the image: all of it, from offset, or a partition. */
static int locate(struct shim_cobd *d, uint64_t total, uint64_t offset, unsigned int part,
		  char *why, size_t len)
{
	uint8_t mbr[512];

	if (part) {
		if (pread(d->fd, mbr, sizeof(mbr), 0) != (ssize_t)sizeof(mbr)) {
			snprintf(why, len, "cannot read its MBR (image of %llu bytes)",
				 (unsigned long long)total);
			return -EINVAL;
		}
		return mbr_partition(mbr, total, part, &d->base, &d->size, why, len);
	}
	if (offset % COOP_COBD_SECTOR || offset >= total) {
		snprintf(why, len, "offset=%llu must be a multiple of 512 inside the %llu-byte image",
			 (unsigned long long)offset, (unsigned long long)total);
		return -EINVAL;
	}
	d->base = offset;
	d->size = (total - offset) & ~(uint64_t)(COOP_COBD_SECTOR - 1);
	if (!d->size) {
		snprintf(why, len, "less than one 512-byte sector of image");
		return -EINVAL;
	}
	return 0;
}

/* Do units a and b of one image share a byte, and may one of them write it? */
static bool units_clash(const struct shim_cobd *a, const struct shim_cobd *b)
{
	return a->dev == b->dev && a->ino == b->ino && (!a->ro || !b->ro) &&
	       a->base < b->base + b->size && b->base < a->base + a->size;
}

/*
 * Lock the unit's bytes of the image for the whole run: for writing (rw),
 * or for reading (ro: readers share).  OFD locks belong to the open file
 * description, not the process, so they hold against a second coop, a
 * QEMU (which locks with OFD locks too) and a second open in this coop
 * alike, and they go with the last close of the fd - no unlock on any
 * way out.  Only the unit's extent: two partitions of one disk may be
 * served apart.  0, or -EBUSY / -errno with why.
 */
static int lock_unit(struct shim_vm *vm, struct shim_cobd *d, char *why, size_t len)
{
	struct flock fl = { .l_type = d->ro ? F_RDLCK : F_WRLCK, .l_whence = SEEK_SET,
			    .l_start = (off_t)d->base, .l_len = (off_t)d->size };
	char holder[48] = "another process";
	int err;

	/* Our own units first: the kernel would only say "someone". */
	for (unsigned int i = 0; i < COOP_BOOT_MAX_DEVS; i++) {
		if (vm->cobd[i] && units_clash(vm->cobd[i], d)) {
			snprintf(why, len, "%s is already cobd%u of this run (%s): units may share "
				 "an image's bytes only if both are ro", d->path, i,
				 vm->cobd[i]->ro ? "ro" : "rw");
			return -EBUSY;
		}
	}
	if (fcntl(d->fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	err = errno;
	if (err != EAGAIN && err != EACCES) {
		snprintf(why, len, "cannot lock %s: %s", d->path, strerror(err));
		return -err;
	}
	/* Who: OFD locks report pid -1 (no one process owns them), POSIX locks a pid. */
	fl.l_pid = 0;
	if (fcntl(d->fd, F_OFD_GETLK, &fl))
		fl.l_type = F_UNLCK; /* say what we know: it is in use */
	if (fl.l_type != F_UNLCK && fl.l_pid > 0)
		snprintf(holder, sizeof(holder), "process %d", (int)fl.l_pid);
	snprintf(why, len, "%s is in use by %s%s", d->path, holder,
		 fl.l_type == F_RDLCK ? " (locked for reading)" :
		 fl.l_type == F_WRLCK ? " (locked for writing)" : "");
	return -EBUSY;
}

/* "cobdN=PATH[,opt...]" -> an open, locked unit. */
static int open_unit(struct shim_vm *vm, const char *spec, struct shim_cobd *d, char *why,
		     size_t len)
{
	char buf[4096], num[24], *path, *opt, *save = NULL;
	const char *eq = strchr(spec, '=');
	uint64_t offset = 0, unit;
	unsigned int part = 0;
	struct stat st;
	size_t n;
	int rc;

	n = eq ? (size_t)(eq - spec) : 0;
	if (strncmp(spec, "cobd", 4) || n <= 4 || !eq[1] || strlen(eq + 1) >= sizeof(buf)) {
		snprintf(why, len, "expected cobdN=PATH[,ro][,offset=BYTES|,partition=N], N 0..%d",
			 COOP_BOOT_MAX_DEVS - 1);
		return -EINVAL;
	}
	snprintf(num, sizeof(num), "%.*s", (int)(n - 4), spec + 4);
	if (n - 4 >= sizeof(num) || coop_parse_u64(num, COOP_BOOT_MAX_DEVS - 1, &unit)) {
		snprintf(why, len, "the unit N of cobdN is 0..%d", COOP_BOOT_MAX_DEVS - 1);
		return -EINVAL;
	}
	d->unit = (unsigned int)unit;
	if (vm->cobd[d->unit]) {
		snprintf(why, len, "cobd%u is given twice", d->unit);
		return -EINVAL;
	}
	strcpy(buf, eq + 1);
	path = strtok_r(buf, ",", &save);
	if (!path) {
		snprintf(why, len, "expected cobdN=PATH[,ro][,offset=BYTES|,partition=N]");
		return -EINVAL;
	}
	while ((opt = strtok_r(NULL, ",", &save)))
		if (parse_opt(opt, &d->ro, &offset, &part, why, len))
			return -EINVAL;
	if (offset && part) {
		snprintf(why, len, "offset= and partition= exclude each other");
		return -EINVAL;
	}
	d->path = strdup(path);
	if (!d->path)
		return -ENOMEM;
	d->fd = open(path, (d->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (d->fd < 0 || fstat(d->fd, &st)) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		snprintf(why, len, "%s: not a regular file or block device", path);
		return -EINVAL;
	}
	d->dev = st.st_dev;
	d->ino = st.st_ino;
	d->image_size = image_size(d->fd, &st);
	rc = locate(d, d->image_size, offset, part, why, len);
	return rc ? rc : lock_unit(vm, d, why, len);
}

static int cobd_open(struct shim_vm *vm, const struct shim_config *cfg, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < cfg->ndisks; i++) {
		struct shim_cobd *d = calloc(1, sizeof(*d));
		char why[SHIM_ERR_MAX];
		int rc;

		if (!d)
			return -ENOMEM;
		d->fd = -1;
		rc = open_unit(vm, cfg->disks[i], d, why, sizeof(why));
		if (!rc)
			rc = shim_boot_add_dev(vm, &(struct coop_boot_dev){
							   .device = COOP_DEV_COBD,
							   .unit = (uint16_t)d->unit,
							   .flags = d->ro ? COOP_COBD_F_RO : 0,
							   .size = d->size,
						   });
		if (rc) {
			snprintf(err, errlen, "--disk %s: %s", cfg->disks[i],
				 rc == -ENOSPC ? "too many devices" :
				 rc == -ENOMEM ? "out of memory" : why);
			if (d->fd >= 0)
				close(d->fd);
			free(d->path);
			free(d);
			return rc;
		}
		vm->cobd[d->unit] = d;
	}
	return 0;
}

static void cobd_close(struct shim_vm *vm)
{
	for (int i = 0; i < COOP_BOOT_MAX_DEVS; i++) {
		if (!vm->cobd[i])
			continue;
		close(vm->cobd[i]->fd); /* and with it the unit's lock */
		free(vm->cobd[i]->path);
		free(vm->cobd[i]);
		vm->cobd[i] = NULL;
	}
}

/* pread/pwrite all of it; -errno, or -EIO for a short transfer. */
static int transfer(int fd, bool write, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = write ? pwrite(fd, p, len, (off_t)off) : pread(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ENODATA; /* past the end: the image shrank under us */
		p += n, off += (uint64_t)n, len -= (size_t)n;
	}
	return 0;
}

/*
 * The image ends before the unit does: sectors the guest wrote are gone.
 * From here on every request fails with EIO, so that no read of the lost
 * part can succeed later - a write past the new end would regrow the file
 * and the hole read back as zeros, a silent loss.  Said once, on stderr.
 */
static int unit_broken(struct shim_cobd *d, uint64_t now)
{
	if (!d->broken)
		fprintf(stderr, "coop: cobd%u: %s shrank under the guest from %llu to %llu bytes "
				"(the unit ends at byte %llu): cobd%u fails every request with EIO "
				"from now on\n", d->unit, d->path,
			(unsigned long long)d->image_size, (unsigned long long)now,
			(unsigned long long)(d->base + d->size), d->unit);
	d->broken = true;
	return -EIO;
}

/*
 * Does the image still hold the whole unit?  0, or the sticky -EIO.  An
 * fstat per write and flush: a pwrite past the end would otherwise extend
 * the file.  (Not airtight: a shrink that lands between this check and
 * the pwrite is extended by that one request; the next write or flush
 * that finds the image short, or read past its end, breaks the unit.)
 */
static int unit_check_size(struct shim_cobd *d)
{
	struct stat st;
	uint64_t now;

	if (fstat(d->fd, &st))
		return -errno;
	now = image_size(d->fd, &st);
	return now < d->base + d->size ? unit_broken(d, now) : 0;
}

/* Is the request's extent inside the unit, sector-aligned and not too big? */
static bool extent_ok(const struct shim_cobd *d, const struct coop_cobd_request *r)
{
	uint64_t end;

	return r->length && r->length <= COOP_COBD_MAX_IO && !(r->length % COOP_COBD_SECTOR) &&
	       !(r->offset % COOP_COBD_SECTOR) &&
	       !__builtin_add_overflow(r->offset, (uint64_t)r->length, &end) && end <= d->size;
}

static int do_rw(struct shim_vm *vm, struct shim_cobd *d, const struct coop_cobd_request *r,
		 uint64_t seq, struct coop_cobd_reply *rep)
{
	bool half;
	bool write = r->op == COOP_COBD_WRITE, crc = !(r->flags & COOP_COBD_F_NODATACRC);
	uint64_t addr = shim_guest_msg_addr(vm, r->addr);
	void *buf;
	int rc;

	if (write && d->ro)
		return -EROFS;
	if (!extent_ok(d, r))
		return -EINVAL;
	if (write ? !shim_guest_readable(vm, addr, r->length)
		  : !shim_guest_writable(vm, addr, r->length))
		return -EFAULT;
	buf = shim_guest_ptr(vm, addr);
	if (write && crc && shim_crc32c(0, buf, r->length) != r->data_crc32c)
		return -EBADMSG; /* damaged on the way: the guest sends it again */
	if (write && (rc = unit_check_size(d)))
		return rc;
	/* Fault site: the image I/O itself fails, or stops half way. */
	rc = shim_faults_io(vm, d->unit, (int)r->op, seq, &half);
	if (rc && half)
		transfer(d->fd, write, buf, r->length / 2 & ~(COOP_COBD_SECTOR - 1u),
			 d->base + r->offset);
	if (!rc)
		rc = transfer(d->fd, write, buf, r->length, d->base + r->offset);
	if (rc == -ENODATA) { /* a read found the end of the image inside the unit */
		struct stat st;

		return unit_broken(d, fstat(d->fd, &st) ? 0 : image_size(d->fd, &st));
	}
	if (rc)
		return rc;
	rep->length = r->length;
	if (!write && crc)
		rep->data_crc32c = shim_crc32c(0, buf, r->length);
	if (!write)
		d->last_addr = addr, d->last_len = r->length, d->last_offset = r->offset;
	return 0;
}

static int serve(struct shim_vm *vm, struct shim_cobd *d, const struct coop_cobd_request *r,
		 uint64_t seq, struct coop_cobd_reply *rep)
{
	int rc;

	d->last_seq = seq;
	d->last_len = 0;
	if (d->broken)
		return -EIO;
	switch (r->op) {
	case COOP_COBD_READ:
	case COOP_COBD_WRITE:
		return do_rw(vm, d, r, seq, rep);
	case COOP_COBD_FLUSH:
		if ((rc = unit_check_size(d)))
			return rc;
		return d->ro || fdatasync(d->fd) == 0 ? 0 : -errno;
	case COOP_COBD_INFO:
		rep->size = d->size;
		rep->flags = d->ro ? COOP_COBD_F_RO : 0;
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

/*
 * The transfer request r asks for, as coop:message names it: op, first
 * sector and bytes, exact or not at all - a misaligned extent has no
 * sector to name (serve() refuses it), an unknown op no name.  r may be
 * anything the guest or the fault layer made: only arithmetic here.
 */
static struct shim_msg_io request_io(const struct coop_cobd_request *r)
{
	switch (r->op) {
	case COOP_COBD_READ:
	case COOP_COBD_WRITE:
		if (r->offset % COOP_COBD_SECTOR || r->length % COOP_COBD_SECTOR)
			break;
		return (struct shim_msg_io){ .op = r->op, .sector = r->offset / COOP_COBD_SECTOR,
					     .bytes = r->length };
	case COOP_COBD_FLUSH:
	case COOP_COBD_INFO:
		return (struct shim_msg_io){ .op = r->op }; /* no extent: offset, length unused */
	}
	return (struct shim_msg_io){ 0 };
}

/* The router's view, for a message taken from the window (struct shim_device.io_of). */
static struct shim_msg_io cobd_io_of(const struct coop_msg_hdr *h, const uint8_t *payload)
{
	struct coop_cobd_request r;

	if (h->type != COOP_COBD_REQUEST || h->length != sizeof(r))
		return (struct shim_msg_io){ 0 };
	memcpy(&r, payload, sizeof(r));
	return request_io(&r);
}

static void cobd_from_guest(struct shim_vm *vm, const struct coop_msg_hdr *h,
			    const uint8_t *payload)
{
	struct coop_cobd_request r;
	struct coop_cobd_reply rep = { 0 };
	struct shim_cobd *d = h->unit < COOP_BOOT_MAX_DEVS ? vm->cobd[h->unit] : NULL;
	struct shim_msg_io io;

	if (h->type != COOP_COBD_REQUEST || h->length != sizeof(r)) {
		shim_kill_guest(vm, "cobd%u: message type %u with %u bytes is not a request", h->unit,
				h->type, h->length);
		return;
	}
	memcpy(&r, payload, sizeof(r));
	/*
	 * The reply names the transfer of the request served here, read from
	 * the same bytes the trace read it from when the host took the request
	 * (a copy the fault layer damaged on the way - nocrc - names its own).
	 */
	io = request_io(&r);
	rep.op = r.op;
	rep.status = d ? serve(vm, d, &r, h->seq, &rep) : -ENODEV;
	if (vm->faults)
		shim_faults_served(vm, COOP_DEV_COBD, h->unit, h->seq, rep.status);
	if (rep.status)
		vm->stats.dev_errors[COOP_DEV_COBD]++;
	if (shim_router_reply(vm, COOP_DEV_COBD, h->unit, COOP_COBD_REPLY, h->seq, &rep,
			      sizeof(rep), &io))
		shim_kill_guest(vm, "cobd%u: out of memory for a reply", h->unit);
}

/*
 * The fault layer damages a read reply: flip bits in the data the read put
 * into guest memory, after the host computed its CRC - as if the bytes had
 * been damaged on the way.  false for replies that carry no data.
 */
static bool cobd_corrupt_data(struct shim_vm *vm, const struct coop_msg_hdr *h,
			      const struct fault_fired *f)
{
	struct shim_cobd *d = h->unit < COOP_BOOT_MAX_DEVS ? vm->cobd[h->unit] : NULL;

	if (!d || h->type != COOP_COBD_REPLY || d->last_seq != h->seq || !d->last_len)
		return false;
	fault_engine_flip(f, shim_guest_ptr(vm, d->last_addr), d->last_len);
	shim_faults_damaged(vm, COOP_DEV_COBD, h->unit, h->seq, d->last_offset / COOP_COBD_SECTOR,
			    (d->last_offset + d->last_len) / COOP_COBD_SECTOR);
	return true;
}

const struct shim_device shim_cobd_device = {
	.id = COOP_DEV_COBD,
	.open = cobd_open,
	.close = cobd_close,
	.from_guest = cobd_from_guest,
	.corrupt_data = cobd_corrupt_data,
	.io_of = cobd_io_of,
};
