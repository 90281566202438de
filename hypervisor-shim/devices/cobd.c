/* SPDX-License-Identifier: MIT */
/*
 * cobd.c - the block device's host side: raw image files (or a part of
 * one: offset=BYTES, partition=N from its MBR), several units, read-only
 * units.  A request names a guest buffer; the bytes move between the
 * image and guest memory with pread/pwrite, no copy in between.  Every
 * guest-supplied offset, length and address is checked; host I/O errors
 * become error replies, never corruption or a host crash.
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

struct shim_cobd {
	unsigned int unit; /* N of cobdN */
	uint64_t last_seq; /* the last request served: a fault plan may damage its data */
	uint64_t last_addr; /* ... the guest buffer a read filled ... */
	uint32_t last_len;  /* ... and how many bytes (0: not a successful read) */
	uint64_t last_offset; /* ... from this byte of the unit */
	int fd;            /* the image */
	bool ro;           /* refuse writes */
	uint64_t base;     /* byte offset of the unit in the image */
	uint64_t size;     /* bytes, a multiple of COOP_COBD_SECTOR */
};

/* One option of a spec: ro, offset=BYTES, partition=N. */
static int parse_opt(const char *opt, bool *ro, uint64_t *offset, int *part)
{
	char *end;

	if (!strcmp(opt, "ro")) {
		*ro = true;
		return 0;
	}
	if (!strncmp(opt, "offset=", 7) && opt[7]) {
		*offset = strtoull(opt + 7, &end, 0);
		return *end ? -EINVAL : 0;
	}
	if (!strncmp(opt, "partition=", 10) && opt[10]) {
		*part = (int)strtol(opt + 10, &end, 10);
		return *end || *part < 1 ? -EINVAL : 0;
	}
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
static int locate(struct shim_cobd *d, uint64_t total, uint64_t offset, int part, char *why,
		  size_t len)
{
	uint8_t mbr[512];

	if (part) {
		if (pread(d->fd, mbr, sizeof(mbr), 0) != (ssize_t)sizeof(mbr)) {
			snprintf(why, len, "cannot read its MBR (image of %llu bytes)",
				 (unsigned long long)total);
			return -EINVAL;
		}
		return mbr_partition(mbr, total, (unsigned int)part, &d->base, &d->size, why, len);
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

/* "cobdN=PATH[,opt...]" -> an open unit. */
static int open_unit(struct shim_vm *vm, const char *spec, struct shim_cobd *d, char *why,
		     size_t len)
{
	char buf[4096], *path, *opt, *save = NULL;
	uint64_t offset = 0;
	int part = 0, n;
	struct stat st;

	if (sscanf(spec, "cobd%u=%n", &d->unit, &n) != 1 || d->unit >= COOP_BOOT_MAX_DEVS ||
	    !spec[n] || strlen(spec + n) >= sizeof(buf)) {
		snprintf(why, len, "expected cobdN=PATH[,ro][,offset=BYTES|,partition=N], N 0..%d",
			 COOP_BOOT_MAX_DEVS - 1);
		return -EINVAL;
	}
	if (vm->cobd[d->unit]) {
		snprintf(why, len, "cobd%u is given twice", d->unit);
		return -EINVAL;
	}
	strcpy(buf, spec + n);
	path = strtok_r(buf, ",", &save);
	while ((opt = strtok_r(NULL, ",", &save)))
		if (parse_opt(opt, &d->ro, &offset, &part)) {
			snprintf(why, len, "unknown option '%s' (ro, offset=BYTES, partition=N)", opt);
			return -EINVAL;
		}
	if (offset && part) {
		snprintf(why, len, "offset= and partition= exclude each other");
		return -EINVAL;
	}
	d->fd = open(path, (d->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (d->fd < 0 || fstat(d->fd, &st)) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		snprintf(why, len, "%s: not a regular file or block device", path);
		return -EINVAL;
	}
	return locate(d, image_size(d->fd, &st), offset, part, why, len);
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
				 rc == -ENOSPC ? "too many devices" : why);
			if (d->fd >= 0)
				close(d->fd);
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
		close(vm->cobd[i]->fd);
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
			return -EIO; /* the image shrank under us */
		p += n, off += (uint64_t)n, len -= (size_t)n;
	}
	return 0;
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
	void *buf;
	int rc;

	if (write && d->ro)
		return -EROFS;
	if (!extent_ok(d, r))
		return -EINVAL;
	if (write ? !shim_guest_readable(vm, r->addr, r->length)
		  : !shim_guest_writable(vm, r->addr, r->length))
		return -EFAULT;
	buf = shim_guest_ptr(vm, r->addr);
	if (write && crc && shim_crc32c(0, buf, r->length) != r->data_crc32c)
		return -EBADMSG; /* damaged on the way: the guest sends it again */
	/* Fault site: the image I/O itself fails, or stops half way. */
	rc = shim_faults_io(vm, d->unit, (int)r->op, seq, &half);
	if (rc && half)
		transfer(d->fd, write, buf, r->length / 2 & ~(COOP_COBD_SECTOR - 1u),
			 d->base + r->offset);
	if (!rc)
		rc = transfer(d->fd, write, buf, r->length, d->base + r->offset);
	if (rc)
		return rc;
	rep->length = r->length;
	if (!write && crc)
		rep->data_crc32c = shim_crc32c(0, buf, r->length);
	if (!write)
		d->last_addr = r->addr, d->last_len = r->length, d->last_offset = r->offset;
	return 0;
}

static int serve(struct shim_vm *vm, struct shim_cobd *d, const struct coop_cobd_request *r,
		 uint64_t seq, struct coop_cobd_reply *rep)
{
	d->last_seq = seq;
	d->last_len = 0;
	switch (r->op) {
	case COOP_COBD_READ:
	case COOP_COBD_WRITE:
		return do_rw(vm, d, r, seq, rep);
	case COOP_COBD_FLUSH:
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
