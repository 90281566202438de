// SPDX-License-Identifier: MIT
/*
 * fake_coop_ko.c - an LD_PRELOAD stand-in for coop.ko's /dev/coop, API 1.2,
 * for the Linux guest's side of the monitor on a host that cannot load the
 * module (tests/integration/linux_boot.sh).  open("/dev/coop") gives a
 * memfd, the module's physical region; the ioctls are answered here:
 * VERSION, GET_LAYOUT, CREATE (COOP_KMOD_CREATE_LINUX only), LOAD_LINUX
 * (checks what coop built in guest RAM and writes it to $FAKE_COOP_DUMP),
 * RUN (a scripted guest: HELLO, then a PANIC or a page fault), GET_STATE.
 * coop mmaps the memfd itself, as it mmaps /dev/coop.
 *   FAKE_COOP_LAYOUT  SIZE_MIB@ADDR of the region, or "none"   (256@0x20000000)
 *   FAKE_COOP_BUSY    1: another guest holds the region
 *   FAKE_COOP_LEVELS  the host's paging levels, 4 or 5            (4)
 *   FAKE_COOP_GUEST   panic or fault: what the guest does after HELLO (panic)
 *   FAKE_COOP_DUMP    where LOAD_LINUX's view of the guest goes
 */
#include <asm/bootparam.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <coop/abi.h>
#include <coop/kmod.h>

static struct {
	int fd;             /* the open "/dev/coop" (a memfd), -1: none */
	uint64_t start;     /* the region */
	uint64_t size;
	uint64_t ram_size;  /* claimed by CREATE */
	uint8_t *ram;       /* our own view of it */
	struct coop_kmod_load_linux load;
	unsigned int runs;  /* RUN calls so far */
} dev = { .fd = -1 };

static const char *env(const char *name, const char *dflt)
{
	const char *v = getenv(name);

	return v && *v ? v : dflt;
}

static int open_dev(void)
{
	const char *layout = env("FAKE_COOP_LAYOUT", "256@0x20000000");

	if (strcmp(layout, "none")) {
		char *at;

		dev.size = strtoull(layout, &at, 0) << 20;
		dev.start = *at == '@' ? strtoull(at + 1, NULL, 0) : 0;
	}
	dev.fd = memfd_create("fake-coop", MFD_CLOEXEC);
	return dev.fd;
}

typedef int (*open_fn)(const char *, int, ...);

/* open(), open64() and their fortified forms: /dev/coop is ours. */
#define OPEN_WRAPPER(name)                                                       \
	int name(const char *path, int flags, ...)                               \
	{                                                                        \
		static open_fn real;                                             \
		va_list ap;                                                      \
		mode_t mode;                                                     \
									 \
		if (!strcmp(path, COOP_KMOD_DEVICE))                             \
			return open_dev();                                       \
		if (!real)                                                       \
			real = (open_fn)dlsym(RTLD_NEXT, #name);                 \
		va_start(ap, flags);                                             \
		mode = va_arg(ap, mode_t);                                       \
		va_end(ap);                                                      \
		return real(path, flags, mode);                                  \
	}
OPEN_WRAPPER(open)
OPEN_WRAPPER(open64)

static int fail(int e)
{
	errno = e;
	return -1;
}

static int create(struct coop_kmod_create *c)
{
	if (!(c->flags & COOP_KMOD_CREATE_LINUX))
		return fail(EINVAL); /* this fake holds Linux guests only */
	if (!dev.size || c->ram_size > dev.size || c->ram_size % COOP_PAGE_SIZE)
		return fail(EINVAL);
	if (ftruncate(dev.fd, (off_t)c->ram_size))
		return -1;
	dev.ram = mmap(NULL, c->ram_size, PROT_READ | PROT_WRITE, MAP_SHARED, dev.fd, 0);
	if (dev.ram == MAP_FAILED)
		return -1;
	dev.ram_size = c->ram_size;
	c->switch_to_host = 0xffffffffc0001000; /* where a switcher would be */
	c->return_trap = 0;
	return 0;
}

/* A guest-physical address of the region, in our view; NULL if outside it. */
static void *phys(uint64_t p, uint64_t len)
{
	if (p < dev.start || p - dev.start > dev.ram_size || len > dev.ram_size - (p - dev.start))
		return NULL;
	return dev.ram + (p - dev.start);
}

/* What coop built, as the guest would read it. */
static void dump(FILE *f, const struct coop_kmod_load_linux *l)
{
	const struct boot_params *bp = phys(l->boot_params, sizeof(*bp));
	const struct coop_passage *p = (const void *)dev.ram;
	const struct setup_data *sd;
	uint64_t cmd;

	fprintf(f, "entry %#" PRIx64 "\nboot_params %#" PRIx64 "\nkernel_phys %#" PRIx64
		"\nkernel_size %#" PRIx64 "\nkernel_va %#" PRIx64 "\npage_offset %#" PRIx64 "\n",
		l->entry, l->boot_params, l->kernel_phys, l->kernel_size, l->kernel_va,
		l->page_offset);
	fprintf(f, "ram_size %#" PRIx64 "\npassage_magic %#" PRIx64 "\nboot_flags %#x\n"
		"boot_mem_base %#" PRIx64 "\nboot_mem_size %#" PRIx64 "\nboot_cmdline %s\n",
		dev.ram_size, p->hdr.magic, p->boot.flags, p->boot.mem_base, p->boot.mem_size,
		p->boot.cmdline);
	if (!bp) {
		fprintf(f, "boot_params outside the region\n");
		return;
	}
	cmd = bp->hdr.cmd_line_ptr | (uint64_t)bp->ext_cmd_line_ptr << 32;
	fprintf(f, "subarch %u\ncmdline %s\n", bp->hdr.hardware_subarch,
		phys(cmd, 1) ? (const char *)phys(cmd, 1) : "(outside the region)");
	if (bp->hdr.ramdisk_size) {
		uint64_t rd = bp->hdr.ramdisk_image | (uint64_t)bp->ext_ramdisk_image << 32;
		uint64_t rs = bp->hdr.ramdisk_size | (uint64_t)bp->ext_ramdisk_size << 32;
		const uint8_t *b = phys(rd, rs);

		fprintf(f, "initrd %#" PRIx64 " %#" PRIx64 " %s\n", rd, rs,
			b ? (memcmp(b, "070701", 6) ? "not-cpio" : "cpio") : "outside");
	}
	for (unsigned int i = 0; i < bp->e820_entries && i < E820_MAX_ENTRIES_ZEROPAGE; i++)
		fprintf(f, "e820 %#" PRIx64 " %#" PRIx64 " %u\n", (uint64_t)bp->e820_table[i].addr,
			(uint64_t)bp->e820_table[i].size, bp->e820_table[i].type);
	sd = phys(bp->hdr.setup_data, sizeof(*sd) + sizeof(struct coop_linux_setup));
	if (sd) {
		struct coop_linux_setup cs;

		memcpy(&cs, sd->data, sizeof(cs));
		fprintf(f, "setup_data %u passage %#" PRIx64 " abi %u.%u\n", sd->type, cs.passage,
			cs.major, cs.minor);
	}
	/* The image's first bytes, where kernel_phys says. */
	if (phys(l->kernel_phys, 1))
		fprintf(f, "kernel_byte0 %#x\n", *(const uint8_t *)phys(l->kernel_phys, 1));
}

static int load_linux(const struct coop_kmod_load_linux *l)
{
	const char *path = getenv("FAKE_COOP_DUMP");
	FILE *f;

	if (!dev.ram || !phys(l->kernel_phys, l->kernel_size) || !phys(l->boot_params, 4096))
		return fail(EINVAL);
	dev.load = *l;
	if (path && (f = fopen(path, "w"))) {
		dump(f, l);
		fclose(f);
	}
	return 0;
}

/* The scripted guest: HELLO, then a panic or a page fault at its entry. */
static int run(struct coop_kmod_run *r)
{
	struct coop_op *op = &((struct coop_passage *)dev.ram)->op;

	memset(r, 0, sizeof(*r));
	r->stats.entries = 1;
	r->exit = COOP_KMOD_EXIT_OPERATION;
	op->seq++;
	if (dev.runs++ == 0) {
		op->code = COOP_OP_HELLO;
		op->params.hello = (struct coop_op_hello){ COOP_ABI_MAJOR, COOP_ABI_MINOR, 0 };
	} else if (!strcmp(env("FAKE_COOP_GUEST", "panic"), "fault")) {
		r->exit = COOP_KMOD_EXIT_EXCEPTION;
		r->vector = 14;
		r->error = 2; /* a write to a page not present */
		r->cr2 = 0xffff888000001000;
	} else {
		op->code = COOP_OP_PANIC;
		memset(&op->params.panic, 0, sizeof(op->params.panic));
		op->params.panic.line = 1;
		strcpy(op->params.panic.file, "init/main.c");
		strcpy(op->params.panic.message, "coop phase 1 stop");
	}
	return 0;
}

int ioctl(int fd, unsigned long req, ...)
{
	static int (*real)(int, unsigned long, void *);
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd != dev.fd || fd < 0) {
		if (!real)
			real = (int (*)(int, unsigned long, void *))dlsym(RTLD_NEXT, "ioctl");
		return real(fd, req, arg);
	}
	switch (req) {
	case COOP_KMOD_VERSION:
		*(struct coop_kmod_version *)arg = (struct coop_kmod_version){
			.api_major = COOP_KMOD_API_MAJOR, .api_minor = COOP_KMOD_API_MINOR,
			.abi_major = COOP_ABI_MAJOR, .abi_minor = COOP_ABI_MINOR,
			.paging_levels = (uint32_t)atoi(env("FAKE_COOP_LEVELS", "4")),
		};
		return 0;
	case COOP_KMOD_GET_LAYOUT:
		*(struct coop_kmod_layout *)arg = (struct coop_kmod_layout){
			.phys_start = dev.start, .phys_size = dev.size,
			.busy = !strcmp(env("FAKE_COOP_BUSY", "0"), "1"),
		};
		return 0;
	case COOP_KMOD_CREATE:
		return create(arg);
	case COOP_KMOD_LOAD_LINUX:
		return load_linux(arg);
	case COOP_KMOD_RUN:
		return run(arg);
	case COOP_KMOD_GET_STATE:
		memset(arg, 0, sizeof(struct coop_kmod_state));
		((struct coop_kmod_state *)arg)->regs.rip = dev.load.entry;
		((struct coop_kmod_state *)arg)->regs.vector = 14;
		((struct coop_kmod_state *)arg)->regs.error = 2;
		((struct coop_kmod_state *)arg)->regs.rsp = 0xffffffff82003f00;
		return 0;
	default:
		return fail(ENOTTY);
	}
}
