/* SPDX-License-Identifier: MIT */
/*
 * kmod_ioctl.c - the kmod backend's module tested through /dev/coop alone,
 * KVM-selftest style: tiny guests written here as machine code, the host's
 * checks next to them.  Every ioctl with good and bad arguments, a world
 * switch round trip, guest exceptions (#UD, #PF of several kinds, the
 * stack guard), software interrupts (never the host's), W^X in the
 * guest's page tables, what memory may be guest RAM, who may open the
 * device, and host interrupts that keep arriving while a guest spins.
 * Needs root and coop.ko loaded: run inside QEMU by tests/kmod/qemu-run.sh
 * (a missing /dev/coop is a skip).
 *   coop-kmod-ioctl            run every test; exit 0, 1 (failed) or 77
 *   coop-kmod-ioctl --tripwire  a guest that changes an MSR it must not (tripwire)
 *   coop-kmod-ioctl --switches N
 *                              N round trips of a guest with GS base of its own
 *   coop-kmod-ioctl --mce CPU SECONDS
 *                              a guest that a machine check hits (mce_spin)
 *   coop-kmod-ioctl --without-cap-sys-rawio PROG [ARG...]
 *                              run PROG without CAP_SYS_RAWIO (root
 *                              otherwise; busybox's setpriv cannot drop
 *                              a capability from the bounding set)
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <asm/prctl.h>

#include <coop/abi.h>
#include <coop/kmod.h>

#include "guests.h"

#define RAM (COOP_U64(4) << 20)
#define CODE (COOP_KERNEL_BASE)               /* guest text: one page, R-X */
#define DATA (COOP_KERNEL_BASE + 0x1000)       /* guest data: R-W */
#define RODATA (COOP_KERNEL_BASE + 0x2000)     /* guest rodata: R */
#define GUARD (COOP_GUEST_BASE + RAM - 0x3000) /* unmapped */
#define STACK_TOP (COOP_GUEST_BASE + RAM)      /* boot stack: the two pages above GUARD */

static int failures, checks;

static void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	checks++;
	if (ok)
		return;
	failures++;
	fputs("FAIL: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* ioctl's result as 0 or -errno. */
static int io(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

struct guest {
	int fd;
	uint8_t *ram;
	struct coop_kmod_create c;
};

static int guest_create(struct guest *g)
{
	g->fd = open(COOP_KMOD_DEVICE, O_RDWR | O_CLOEXEC);
	if (g->fd < 0)
		return -errno;
	g->ram = mmap((void *)(uintptr_t)COOP_GUEST_BASE, RAM, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (g->ram == MAP_FAILED)
		return -errno;
	g->c = (struct coop_kmod_create){ .ram_addr = COOP_GUEST_BASE, .ram_size = RAM };
	return io(g->fd, COOP_KMOD_CREATE, &g->c);
}

static void guest_destroy(struct guest *g)
{
	close(g->fd);
	munmap(g->ram, RAM);
}

/* Text, data and rodata pages, the guard page, and the first rip. */
static int guest_load(struct guest *g, uint64_t rip)
{
	struct coop_kmod_load l = {
		.rip = rip,
		.rsp = STACK_TOP - 8,
		.guard = GUARD,
		.nsegs = 3,
		.segs = {
			{ CODE, CODE + 0x1000, COOP_KMOD_SEG_R | COOP_KMOD_SEG_X, 0 },
			{ DATA, DATA + 0x1000, COOP_KMOD_SEG_R | COOP_KMOD_SEG_W, 0 },
			{ RODATA, RODATA + 0x1000, COOP_KMOD_SEG_R, 0 },
		},
	};

	return io(g->fd, COOP_KMOD_LOAD, &l);
}

static uint8_t *at(struct guest *g, uint64_t addr)
{
	return g->ram + (addr - COOP_GUEST_BASE);
}

/* Machine code, assembled by hand (the encodings are noted). */
static size_t emit(uint8_t *p, const void *bytes, size_t n)
{
	memcpy(p, bytes, n);
	return n;
}

static size_t emit_movabs(uint8_t *p, uint8_t reg_opcode, uint64_t imm) /* 48 B8+r imm64 */
{
	p[0] = 0x48;
	p[1] = reg_opcode;
	memcpy(p + 2, &imm, 8);
	return 10;
}

/*
 * Drop @cap from every set of this process, the bounding set included, so
 * that it does not come back when root execs a program.
 */
static int drop_cap(int cap)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	uint32_t bit = 1u << (cap % 32);

	if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) || syscall(SYS_capget, &h, d))
		return -1;
	d[cap / 32].effective &= ~bit;
	d[cap / 32].permitted &= ~bit;
	d[cap / 32].inheritable &= ~bit;
	return (int)syscall(SYS_capset, &h, d);
}

/* In a child: open /dev/coop as @uid (-1: as root), without CAP_SYS_RAWIO if @no_rawio; errno or 0. */
static int open_as(int uid, bool no_rawio)
{
	pid_t pid = fork();
	int status = -1;

	if (pid == 0) {
		int fd;

		if (uid >= 0 && (setgid((gid_t)uid) || setuid((uid_t)uid)))
			_exit(255);
		if (no_rawio && drop_cap(CAP_SYS_RAWIO))
			_exit(255);
		fd = open(COOP_KMOD_DEVICE, O_RDWR);
		_exit(fd < 0 ? errno : 0);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

/*
 * Mode 0600: only root may run ring-0 guests; and only with CAP_SYS_RAWIO
 * (the module's check at open, which a chmod cannot open).
 */
static void test_permissions(void)
{
	int e;

	e = open_as(65534, false);
	check(e == EACCES, "an unprivileged user cannot open %s: %s", COOP_KMOD_DEVICE, strerror(e));
	e = open_as(-1, true);
	check(e == EPERM, "root without CAP_SYS_RAWIO (CAP_SYS_ADMIN kept) cannot open %s: %s",
	      COOP_KMOD_DEVICE, strerror(e));
	e = open_as(-1, false);
	check(e == 0, "root opens %s: %s", COOP_KMOD_DEVICE, strerror(e));
	/* Even when the mode lets a user in, the capability is missing. */
	check(chmod(COOP_KMOD_DEVICE, 0666) == 0, "chmod 0666 %s", COOP_KMOD_DEVICE);
	e = open_as(65534, false);
	check(e == EPERM, "an unprivileged user cannot open %s with mode 0666: %s",
	      COOP_KMOD_DEVICE, strerror(e));
	check(chmod(COOP_KMOD_DEVICE, 0600) == 0, "chmod 0600 %s", COOP_KMOD_DEVICE);
}

/*
 * Guest RAM must be anonymous private memory: a file (private or shared),
 * shared anonymous memory, or RAM that is only partly anonymous is
 * -EINVAL; a hole in it -EFAULT.
 */
static void test_ram_kinds(void)
{
	uint8_t *base = (uint8_t *)(uintptr_t)COOP_GUEST_BASE;
	int fd = open(COOP_KMOD_DEVICE, O_RDWR | O_CLOEXEC);
	char path[] = "/tmp/coop-ram-XXXXXX";
	int file = mkstemp(path);
	struct coop_kmod_create c = { .ram_addr = COOP_GUEST_BASE, .ram_size = RAM };
	const struct {
		const char *what;
		int flags; /* MAP_ANONYMOUS: no file */
		int rc;
	} kinds[] = {
		{ "a private file mapping", MAP_PRIVATE, -EINVAL },
		{ "a shared file mapping", MAP_SHARED, -EINVAL },
		{ "shared anonymous memory", MAP_SHARED | MAP_ANONYMOUS, -EINVAL },
		{ "anonymous private memory", MAP_PRIVATE | MAP_ANONYMOUS, 0 },
	};
	struct coop_kmod_state s;
	void *p;

	check(file >= 0 && ftruncate(file, RAM) == 0, "a file for guest RAM: %s", strerror(errno));
	unlink(path);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		int f = kinds[i].flags & MAP_ANONYMOUS ? -1 : file;

		p = mmap(base, RAM, PROT_READ | PROT_WRITE, kinds[i].flags | MAP_FIXED_NOREPLACE, f, 0);
		check(p == base, "mmap %s: %s", kinds[i].what, strerror(errno));
		check(io(fd, COOP_KMOD_CREATE, &c) == kinds[i].rc, "CREATE on %s: %s, want %s",
		      kinds[i].what, strerror(errno), kinds[i].rc ? strerror(-kinds[i].rc) : "success");
		if (!kinds[i].rc) {
			/* The one that worked: GET_STATE tells no kernel address. */
			check(io(fd, COOP_KMOD_GET_STATE, &s) == 0 && !s.reserved0[0] &&
				      !s.reserved0[1] && !s.reserved0[2],
			      "GET_STATE: the reserved (once address) fields are zero");
			check(io(fd, COOP_KMOD_DESTROY, NULL) == 0, "DESTROY: %s", strerror(errno));
		}
		munmap(base, RAM);
	}
	/* Anonymous, but its second half a file. */
	p = mmap(base, RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
		 -1, 0);
	check(p == base && mmap(base + RAM / 2, RAM / 2, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_FIXED, file, 0) == (void *)(base + RAM / 2),
	      "mmap half anonymous, half a file: %s", strerror(errno));
	check(io(fd, COOP_KMOD_CREATE, &c) == -EINVAL, "CREATE on RAM half a file: %s, want EINVAL",
	      strerror(errno));
	munmap(base, RAM);
	/* Anonymous, with a page missing in the middle. */
	p = mmap(base, RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
		 -1, 0);
	check(p == base && munmap(base + RAM / 2, 0x1000) == 0, "mmap with a hole: %s",
	      strerror(errno));
	check(io(fd, COOP_KMOD_CREATE, &c) == -EFAULT, "CREATE on RAM with a hole: %s, want EFAULT",
	      strerror(errno));
	munmap(base, RAM);
	close(file);
	close(fd);
}

static void test_version(void)
{
	struct coop_kmod_version v;
	int fd = open(COOP_KMOD_DEVICE, O_RDWR | O_CLOEXEC);
	char line[4096];
	FILE *f;
	bool la57 = false;

	check(fd >= 0 && io(fd, COOP_KMOD_VERSION, &v) == 0, "VERSION: %s", strerror(errno));
	check(v.api_major == COOP_KMOD_API_MAJOR, "VERSION: API major %u", v.api_major);
	check(v.abi_major == COOP_ABI_MAJOR && v.abi_minor == COOP_ABI_MINOR,
	      "VERSION: the module serves ABI %u.%u", v.abi_major, v.abi_minor);
	/* The kernel lists la57 only when it turned 5-level paging on. */
	f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "flags", 5)) {
			la57 = strstr(line, " la57") != NULL;
			break;
		}
	if (f)
		fclose(f);
	check(v.paging_levels == (la57 ? 5u : 4u), "VERSION: %u paging levels, la57 %s",
	      v.paging_levels, la57 ? "on" : "off");
	check(!!(v.features & COOP_KMOD_F_LA57) == (v.paging_levels == 5), "VERSION: LA57 flag");
	printf("module: API %u.%u, ABI %u.%u, %u-level paging, features %#x\n", v.api_major,
	       v.api_minor, v.abi_major, v.abi_minor, v.paging_levels, v.features);
	/* A size the module does not know is not its ioctl at all. */
	check(ioctl(fd, _IOR(COOP_KMOD_IOC, 0x00, uint64_t), &v) < 0 && errno == ENOTTY,
	      "VERSION with another size: want ENOTTY, got %s", strerror(errno));
	check(io(fd, COOP_KMOD_RUN, &(struct coop_kmod_run){ 0 }) == -ENOENT, "RUN before CREATE");
	check(io(fd, COOP_KMOD_GET_STATE, &(struct coop_kmod_state){ 0 }) == -ENOENT,
	      "GET_STATE before CREATE");
	check(io(fd, COOP_KMOD_DESTROY, NULL) == -ENOENT, "DESTROY before CREATE");
	close(fd);
}

static void test_create_bad(void)
{
	int fd = open(COOP_KMOD_DEVICE, O_RDWR | O_CLOEXEC);
	struct coop_kmod_create c = { .ram_addr = COOP_GUEST_BASE, .ram_size = RAM };
	struct coop_kmod_create bad;

	bad = c, bad.ram_addr += 0x1000;
	check(io(fd, COOP_KMOD_CREATE, &bad) == -EINVAL, "CREATE at another address");
	bad = c, bad.ram_size = COOP_MEM_MIN - 0x1000;
	check(io(fd, COOP_KMOD_CREATE, &bad) == -EINVAL, "CREATE below COOP_MEM_MIN");
	bad = c, bad.ram_size += 1;
	check(io(fd, COOP_KMOD_CREATE, &bad) == -EINVAL, "CREATE of a partial page");
	bad = c, bad.flags = 0x80000000;
	check(io(fd, COOP_KMOD_CREATE, &bad) == -EINVAL, "CREATE with unknown flags");
	/* Nothing is mapped there in this process yet. */
	check(io(fd, COOP_KMOD_CREATE, &c) == -EFAULT, "CREATE of unmapped RAM: want EFAULT");
	check(io(fd, COOP_KMOD_CREATE, (void *)8) == -EFAULT, "CREATE with a bad pointer");
	close(fd);
}

static void test_load_bad(void)
{
	struct guest g;
	struct coop_kmod_load l;
	const struct coop_kmod_load good = {
		.rip = CODE, .rsp = STACK_TOP - 8, .guard = GUARD, .nsegs = 1,
		.segs = { { CODE, CODE + 0x1000, COOP_KMOD_SEG_R | COOP_KMOD_SEG_X, 0 } },
	};
	struct coop_kmod_create again;

	check(guest_create(&g) == 0, "CREATE: %s", strerror(errno));
	check(g.c.switch_to_host >> 63 && g.c.return_trap >> 63,
	      "CREATE: the switcher is in the upper half (%#llx)",
	      (unsigned long long)g.c.switch_to_host);
	again = g.c;
	check(io(g.fd, COOP_KMOD_CREATE, &again) == -EBUSY, "a second CREATE on one fd");
	check(io(g.fd, COOP_KMOD_RUN, &(struct coop_kmod_run){ 0 }) == -ENOEXEC, "RUN before LOAD");
	l = good, l.segs[0].flags |= COOP_KMOD_SEG_W;
	check(io(g.fd, COOP_KMOD_LOAD, &l) == -EINVAL, "LOAD of a W+X segment");
	l = good, l.rip = DATA;
	check(io(g.fd, COOP_KMOD_LOAD, &l) == -EINVAL, "LOAD with rip outside the text");
	l = good, l.segs[0].start = COOP_GUEST_BASE;
	check(io(g.fd, COOP_KMOD_LOAD, &l) == -EINVAL, "LOAD of a segment over the passage");
	l = good, l.segs[0].end = COOP_GUEST_BASE + RAM + 0x1000;
	check(io(g.fd, COOP_KMOD_LOAD, &l) == -EINVAL, "LOAD of a segment past RAM");
	l = good, l.segs[0].start += 1;
	check(io(g.fd, COOP_KMOD_LOAD, &l) == -EINVAL, "LOAD of an unaligned segment");
	l = good, l.nsegs = COOP_KMOD_MAX_SEGS + 1;
	check(io(g.fd, COOP_KMOD_LOAD, &l) == -EINVAL, "LOAD of too many segments");
	l = good, l.rsp = COOP_GUEST_BASE;
	check(io(g.fd, COOP_KMOD_LOAD, &l) == -EINVAL, "LOAD with rsp below RAM");
	l = good;
	check(io(g.fd, COOP_KMOD_LOAD, &l) == 0, "LOAD: %s", strerror(errno));
	check(io(g.fd, COOP_KMOD_LOAD, &l) == -EBUSY, "a second LOAD");
	check(io(g.fd, COOP_KMOD_DESTROY, NULL) == 0, "DESTROY");
	check(io(g.fd, COOP_KMOD_GET_STATE, &(struct coop_kmod_state){ 0 }) == -ENOENT,
	      "GET_STATE after DESTROY");
	/* The file can hold a new guest once the old one is gone. */
	again = (struct coop_kmod_create){ .ram_addr = COOP_GUEST_BASE, .ram_size = RAM };
	check(io(g.fd, COOP_KMOD_CREATE, &again) == 0, "CREATE after DESTROY: %s", strerror(errno));
	guest_destroy(&g);
}

/*
 * A guest that counts its calls to the host in DATA and calls again:
 *   start: movabs $DATA, %rbx; incq (%rbx); movabs $switch_to_host, %rax;
 *          call *%rax; jmp start
 */
static void test_round_trip(void)
{
	struct guest g;
	struct coop_kmod_run r;
	struct coop_kmod_state s;
	uint8_t *p;
	size_t n = 0;
	uint64_t after_call;

	check(guest_create(&g) == 0, "CREATE: %s", strerror(errno));
	p = at(&g, CODE);
	n += emit_movabs(p + n, 0xbb, DATA);
	n += emit(p + n, "\x48\xff\x03", 3);
	n += emit_movabs(p + n, 0xb8, g.c.switch_to_host);
	n += emit(p + n, "\xff\xd0", 2);
	after_call = CODE + n;
	n += emit(p + n, (uint8_t[]){ 0xeb, (uint8_t)-(int)(n + 2) }, 2);
	check(guest_load(&g, CODE) == 0, "LOAD: %s", strerror(errno));
	for (int i = 1; i <= 3; i++) {
		memset(&r, 0, sizeof(r));
		check(io(g.fd, COOP_KMOD_RUN, &r) == 0, "RUN %d: %s", i, strerror(errno));
		if (r.exit == COOP_KMOD_EXIT_INTERRUPTED) { /* a signal or the slice: again */
			i--;
			continue;
		}
		check(r.exit == COOP_KMOD_EXIT_OPERATION, "RUN %d: exit %u, want OPERATION", i,
		      r.exit);
		check(*(uint64_t *)at(&g, DATA) == (uint64_t)i, "RUN %d: the guest counted %llu", i,
		      (unsigned long long)*(uint64_t *)at(&g, DATA));
		check(r.tsc_out >= r.tsc_in, "RUN %d: TSC out before TSC in", i);
	}
	check(io(g.fd, COOP_KMOD_GET_STATE, &s) == 0, "GET_STATE: %s", strerror(errno));
	check(s.regs.vector == COOP_KMOD_VEC_CALL, "state: vector %llu",
	      (unsigned long long)s.regs.vector);
	check(s.regs.rip == after_call, "state: rip %#llx, want the return address %#llx",
	      (unsigned long long)s.regs.rip, (unsigned long long)after_call);
	check(s.regs.rsp == STACK_TOP - 8, "state: rsp %#llx after the call returns",
	      (unsigned long long)s.regs.rsp);
	check(s.regs.rbx == DATA && s.regs.rflags & 0x200, "state: rbx and IF kept");
	check(s.stats.exits_call >= 3 && s.stats.entries >= 3, "state: %llu calls in %llu entries",
	      (unsigned long long)s.stats.exits_call, (unsigned long long)s.stats.entries);
	check(s.loaded && s.table_pages >= 4, "state: loaded, %u table pages", s.table_pages);
	guest_destroy(&g);
}

/* Run a guest whose code is @code until it takes an exception; return the run. */
static struct coop_kmod_run run_to_exception(const void *code, size_t len,
					     struct coop_kmod_state *s)
{
	struct guest g;
	struct coop_kmod_run r;

	memset(&r, 0, sizeof(r));
	if (guest_create(&g)) {
		check(false, "CREATE: %s", strerror(errno));
		return r;
	}
	memcpy(at(&g, CODE), code, len);
	check(guest_load(&g, CODE) == 0, "LOAD: %s", strerror(errno));
	do {
		check(io(g.fd, COOP_KMOD_RUN, &r) == 0, "RUN: %s", strerror(errno));
	} while (r.exit == COOP_KMOD_EXIT_INTERRUPTED);
	check(io(g.fd, COOP_KMOD_GET_STATE, s) == 0, "GET_STATE: %s", strerror(errno));
	guest_destroy(&g);
	return r;
}

#define PF_PRESENT 0x1
#define PF_WRITE 0x2
#define PF_FETCH 0x10

static void expect_pf(const char *what, const void *code, size_t len, uint64_t addr, uint64_t err)
{
	struct coop_kmod_state s;
	struct coop_kmod_run r = run_to_exception(code, len, &s);

	check(r.exit == COOP_KMOD_EXIT_EXCEPTION && r.vector == 14,
	      "%s: exit %u vector %u, want #PF", what, r.exit, r.vector);
	check(r.cr2 == addr, "%s: cr2 %#llx, want %#llx", what, (unsigned long long)r.cr2,
	      (unsigned long long)addr);
	check((r.error & (PF_PRESENT | PF_WRITE | PF_FETCH)) == err,
	      "%s: error code %#llx, want %#llx", what, (unsigned long long)r.error,
	      (unsigned long long)err);
}

static void test_exceptions(void)
{
	struct coop_kmod_state s;
	struct coop_kmod_run r;
	uint8_t code[64];
	size_t n;

	r = run_to_exception("\x0f\x0b", 2, &s); /* ud2 */
	check(r.exit == COOP_KMOD_EXIT_EXCEPTION && r.vector == 6, "ud2: exit %u vector %u", r.exit,
	      r.vector);
	check(s.regs.rip == CODE, "ud2: rip %#llx", (unsigned long long)s.regs.rip);
	/* xor %ecx,%ecx; div %ecx */
	r = run_to_exception("\x31\xc9\xf7\xf1", 4, &s);
	check(r.exit == COOP_KMOD_EXIT_EXCEPTION && r.vector == 0, "div by 0: vector %u", r.vector);
	/* mov 0x10, %rax (absolute, unmapped) */
	expect_pf("read of 0x10", "\x48\x8b\x04\x25\x10\x00\x00\x00", 8, 0x10, 0);
	/* movabs $CODE, %rbx; movb %al, (%rbx): text is read-only */
	n = emit_movabs(code, 0xbb, CODE);
	n += emit(code + n, "\x88\x03", 2);
	expect_pf("write to text", code, n, CODE, PF_PRESENT | PF_WRITE);
	n = emit_movabs(code, 0xbb, RODATA);
	n += emit(code + n, "\x88\x03", 2);
	expect_pf("write to rodata", code, n, RODATA, PF_PRESENT | PF_WRITE);
	/* movabs $DATA, %rbx; jmp *%rbx: data is not executable */
	n = emit_movabs(code, 0xbb, DATA);
	n += emit(code + n, "\xff\xe3", 2);
	expect_pf("execute data", code, n, DATA, PF_PRESENT | PF_FETCH);
	/* push into the guard page: movabs $GUARD+0x1000, %rsp; push %rax */
	n = emit_movabs(code, 0xbc, GUARD + 0x1000);
	n += emit(code + n, "\x50", 1);
	expect_pf("stack overflow into the guard", code, n, GUARD + 0xff8, PF_WRITE);
	/* a read past the end of RAM: nothing is mapped there */
	n = emit_movabs(code, 0xbb, COOP_GUEST_BASE + RAM);
	n += emit(code + n, "\x48\x8b\x03", 3);
	expect_pf("read past RAM", code, n, COOP_GUEST_BASE + RAM, 0);
	/* ret, with the return address 0 at rsp: a fetch from an unmapped page */
	r = run_to_exception("\xc3", 1, &s);
	check(r.exit == COOP_KMOD_EXIT_EXCEPTION && r.vector == 14 && r.cr2 == 0,
	      "ret to 0: vector %u cr2 %#llx", r.vector, (unsigned long long)r.cr2);
}

/*
 * A guest that puts markers in rbx and r15, then executes @insn (2 bytes):
 *   movabs $0x1111111111111111, %rbx; movabs $0x2222222222222222, %r15; insn
 * Returns the run; *s the state after it, from which the frame is checked.
 */
static struct coop_kmod_run run_insn(const char *insn, struct coop_kmod_state *s)
{
	uint8_t code[32];
	size_t n = 0;

	n += emit_movabs(code + n, 0xbb, 0x1111111111111111ull);
	n += emit(code + n, "\x49\xbf", 2); /* movabs imm64, %r15 */
	n += emit(code + n, &(uint64_t){ 0x2222222222222222ull }, 8);
	n += emit(code + n, insn, 2);
	n += emit(code + n, "\x0f\x0b", 2); /* ud2: where a resumed guest lands */
	return run_to_exception(code, n, s);
}

/*
 * `int $N` from the ring-0 guest: never passed to the host's handler for
 * N, never misread as the exception N with an error code.  The exit says
 * SOFT_INT (or #BP for 3), the registers are the guest's at the
 * instruction after the int, every frame field in place.
 */
static void test_soft_int(void)
{
	/* 18: no machine check is in progress (MCG_STATUS.MCIP), so it is the guest's. */
	static const unsigned int soft[] = { 8, 10, 11, 12, 13, 14, 17, 18, 21, 29, 30,
					     32, 0x80, 0xec, 0xfd };
	const uint64_t after = CODE + 22;
	struct coop_kmod_state s;
	struct coop_kmod_run r;
	char insn[2];

	for (size_t i = 0; i < sizeof(soft) / sizeof(soft[0]); i++) {
		insn[0] = (char)0xcd, insn[1] = (char)soft[i];
		r = run_insn(insn, &s);
		check(r.exit == COOP_KMOD_EXIT_SOFT_INT && r.vector == soft[i],
		      "int $%#x: exit %u vector %u, want SOFT_INT %u", soft[i], r.exit, r.vector,
		      soft[i]);
		check(s.regs.rip == after && s.regs.rsp == STACK_TOP - 8 && s.regs.cs == 0x10 &&
			      s.regs.ss == 0x18 && s.regs.rflags & 0x200 && s.regs.error == 0 &&
			      s.regs.vector == soft[i],
		      "int $%#x: frame rip %#llx rsp %#llx cs %#llx ss %#llx rflags %#llx error %#llx "
		      "vector %llu", soft[i], (unsigned long long)s.regs.rip,
		      (unsigned long long)s.regs.rsp, (unsigned long long)s.regs.cs,
		      (unsigned long long)s.regs.ss, (unsigned long long)s.regs.rflags,
		      (unsigned long long)s.regs.error, (unsigned long long)s.regs.vector);
		check(s.regs.rbx == 0x1111111111111111ull && s.regs.r15 == 0x2222222222222222ull,
		      "int $%#x: registers kept", soft[i]);
	}
	/* int $3 is the breakpoint exception, as int3 is. */
	r = run_insn("\xcd\x03", &s);
	check(r.exit == COOP_KMOD_EXIT_EXCEPTION && r.vector == 3 && s.regs.rip == after,
	      "int $3: exit %u vector %u rip %#llx, want #BP", r.exit, r.vector,
	      (unsigned long long)s.regs.rip);
	/* The spurious vector is dropped: the guest runs on, into the ud2. */
	r = run_insn("\xcd\xff", &s);
	check(r.exit == COOP_KMOD_EXIT_EXCEPTION && r.vector == 6 && s.regs.rip == after,
	      "int $0xff: exit %u vector %u rip %#llx, want the ud2 after it", r.exit, r.vector,
	      (unsigned long long)s.regs.rip);
	/*
	 * The CPU's own #GP, with an error code: a selector past the GDT.
	 *   mov $0x1000, %eax; mov %eax, %ds   (error code: the selector)
	 */
	r = run_to_exception("\xb8\x00\x10\x00\x00\x8e\xd8", 7, &s);
	check(r.exit == COOP_KMOD_EXIT_EXCEPTION && r.vector == 13 && r.error == 0x1000 &&
		      s.regs.rip == CODE + 5 && s.regs.rsp == STACK_TOP - 8 && s.regs.cs == 0x10,
	      "#GP: exit %u vector %u error %#llx rip %#llx, want 13, 0x1000 at %#llx", r.exit,
	      r.vector, (unsigned long long)r.error, (unsigned long long)s.regs.rip,
	      (unsigned long long)(CODE + 5));
}

/* RUN as a bare syscall with @pattern in xmm0 (no libc code in between); xmm0 after it. */
static uint64_t run_keeping_xmm0(int fd, struct coop_kmod_run *r, uint64_t pattern)
{
	long ret = SYS_ioctl;
	uint64_t out;

	__asm__ volatile("movq %[p], %%xmm0\n\tsyscall\n\tmovq %%xmm0, %[o]"
			 : [o] "=r"(out), "+a"(ret)
			 : "D"((long)fd), "S"((long)COOP_KMOD_RUN), "d"(r), [p] "r"(pattern)
			 : "rcx", "r11", "memory", "xmm0");
	return ret ? 0 : out;
}

/*
 * FPU state on both sides survives the switch: the guest puts a value in
 * xmm1, leaves, and reads it back after the host ran its own SSE code;
 * the host's xmm0 is what it was across RUN.
 *   movabs $X, %rax; movq %rax, %xmm1; movabs $switch, %rax; call *%rax;
 *   movabs $DATA, %rbx; movq %xmm1, %rax; mov %rax, (%rbx); movabs $switch,
 *   %rax; call *%rax; jmp .
 */
static void test_fpu(void)
{
	const uint64_t guest_x = 0x1122334455667788ull, host_x = 0x0badcafe600df00dull;
	struct guest g;
	struct coop_kmod_run r;
	uint8_t *p;
	size_t n = 0;
	uint64_t x0;

	check(guest_create(&g) == 0, "CREATE: %s", strerror(errno));
	p = at(&g, CODE);
	n += emit_movabs(p + n, 0xb8, guest_x);
	n += emit(p + n, "\x66\x48\x0f\x6e\xc8", 5);
	n += emit_movabs(p + n, 0xb8, g.c.switch_to_host);
	n += emit(p + n, "\xff\xd0", 2);
	n += emit_movabs(p + n, 0xbb, DATA);
	n += emit(p + n, "\x66\x48\x0f\x7e\xc8\x48\x89\x03", 8);
	n += emit_movabs(p + n, 0xb8, g.c.switch_to_host);
	n += emit(p + n, "\xff\xd0\xeb\xfe", 4);
	check(guest_load(&g, CODE) == 0, "LOAD: %s", strerror(errno));
	for (int i = 0; i < 2; i++) {
		do {
			memset(&r, 0, sizeof(r));
			x0 = run_keeping_xmm0(g.fd, &r, host_x);
		} while (r.exit == COOP_KMOD_EXIT_INTERRUPTED);
		check(r.exit == COOP_KMOD_EXIT_OPERATION, "fpu: exit %u", r.exit);
		check(x0 == host_x, "fpu: the host's xmm0 came back as %#llx",
		      (unsigned long long)x0);
		/* The host's own use of xmm1 between the two exits. */
		__asm__ volatile("movq %0, %%xmm1" : : "r"(~guest_x) : "xmm1");
	}
	check(*(uint64_t *)at(&g, DATA) == guest_x, "fpu: the guest's xmm1 came back as %#llx",
	      (unsigned long long)*(uint64_t *)at(&g, DATA));
	guest_destroy(&g);
}

/*
 * The bare ring-0 round trip: with NOP_IN_KERNEL the module answers null
 * hypercalls itself, and the guest times N of them with the TSC.
 *   movabs $&op.code, %rbx; movl $COOP_OP_NOP, (%rbx); mov $N, %r13d;
 *   lfence; rdtsc; shl $32, %rdx; or %rax, %rdx; mov %rdx, %r12;
 * 1: movabs $switch, %rax; call *%rax; dec %r13d; jnz 1b;
 *   lfence; rdtsc; shl $32, %rdx; or %rax, %rdx; sub %r12, %rdx;
 *   movabs $DATA, %rbx; mov %rdx, (%rbx);
 *   movabs $&op.code, %rbx; movl $0, (%rbx); movabs $switch, %rax; call *%rax; jmp .
 */
static void test_ring0_round_trip(void)
{
	const uint32_t n = 20000;
	const uint64_t opcode = COOP_GUEST_BASE + offsetof(struct coop_passage, op.code);
	struct guest g;
	struct coop_kmod_run r;
	uint64_t nops = 0, fwd = 0, cycles;
	uint8_t *p;
	size_t k = 0;

	g.fd = open(COOP_KMOD_DEVICE, O_RDWR | O_CLOEXEC);
	g.ram = mmap((void *)(uintptr_t)COOP_GUEST_BASE, RAM, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	g.c = (struct coop_kmod_create){ .ram_addr = COOP_GUEST_BASE, .ram_size = RAM,
					 .flags = COOP_KMOD_CREATE_NOP_IN_KERNEL };
	check(g.ram != MAP_FAILED && io(g.fd, COOP_KMOD_CREATE, &g.c) == 0,
	      "CREATE (NOP_IN_KERNEL): %s", strerror(errno));
	p = at(&g, CODE);
	k += emit_movabs(p + k, 0xbb, opcode);
	k += emit(p + k, "\xc7\x03", 2);
	k += emit(p + k, &(uint32_t){ COOP_OP_NOP }, 4);
	k += emit(p + k, "\x41\xbd", 2);
	k += emit(p + k, &n, 4);
	k += emit(p + k, "\x0f\xae\xe8\x0f\x31\x48\xc1\xe2\x20\x48\x09\xc2\x49\x89\xd4", 15);
	k += emit_movabs(p + k, 0xb8, g.c.switch_to_host);
	k += emit(p + k, "\xff\xd0\x41\xff\xcd\x75\xef", 7);
	k += emit(p + k, "\x0f\xae\xe8\x0f\x31\x48\xc1\xe2\x20\x48\x09\xc2\x4c\x29\xe2", 15);
	k += emit_movabs(p + k, 0xbb, DATA);
	k += emit(p + k, "\x48\x89\x13", 3);
	k += emit_movabs(p + k, 0xbb, opcode);
	k += emit(p + k, "\xc7\x03\x00\x00\x00\x00", 6);
	k += emit_movabs(p + k, 0xb8, g.c.switch_to_host);
	k += emit(p + k, "\xff\xd0\xeb\xfe", 4);
	check(guest_load(&g, CODE) == 0, "LOAD: %s", strerror(errno));
	do {
		memset(&r, 0, sizeof(r));
		check(io(g.fd, COOP_KMOD_RUN, &r) == 0, "RUN: %s", strerror(errno));
		nops += r.stats.nops_in_kernel;
		fwd += r.stats.irqs_forwarded;
	} while (r.exit == COOP_KMOD_EXIT_INTERRUPTED);
	check(r.exit == COOP_KMOD_EXIT_OPERATION && nops == n,
	      "NOP_IN_KERNEL: exit %u after %llu in-kernel NOPs, want %u", r.exit,
	      (unsigned long long)nops, n);
	cycles = *(uint64_t *)at(&g, DATA);
	check(cycles > 0, "the guest timed its round trips");
	printf("ring-0 round trip (null hypercall answered in the module): mean %llu TSC cycles "
	       "over %u, %llu host interrupts forwarded meanwhile\n",
	       (unsigned long long)(cycles / n), n, (unsigned long long)fwd);
	guest_destroy(&g);
}

/* CLOCK_MONOTONIC_COARSE advances with the host's jiffies. */
static uint64_t coarse_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * A guest that spins forever (jmp .): the host keeps getting its timer
 * interrupts, forwarded, and RUN comes back at the end of every slice.
 */
static void test_spin(void)
{
	struct guest g;
	struct coop_kmod_run r;
	struct coop_kmod_state s;
	uint64_t t0, t1, fwd = 0, slices = 0;
	int runs = 0;

	check(guest_create(&g) == 0, "CREATE: %s", strerror(errno));
	memcpy(at(&g, CODE), "\xeb\xfe", 2);
	check(guest_load(&g, CODE) == 0, "LOAD: %s", strerror(errno));
	t0 = coarse_ms();
	while (coarse_ms() - t0 < 300 && runs < 1000) {
		memset(&r, 0, sizeof(r));
		check(io(g.fd, COOP_KMOD_RUN, &r) == 0, "RUN: %s", strerror(errno));
		check(r.exit == COOP_KMOD_EXIT_INTERRUPTED, "spin: exit %u", r.exit);
		fwd += r.stats.irqs_forwarded;
		slices += r.stats.slices;
		runs++;
	}
	t1 = coarse_ms();
	check(t1 - t0 >= 300, "spin: host jiffies advanced %llu ms across the busy guest",
	      (unsigned long long)(t1 - t0));
	check(fwd > 0 && slices > 0, "spin: %llu interrupts forwarded, %llu slices",
	      (unsigned long long)fwd, (unsigned long long)slices);
	check(io(g.fd, COOP_KMOD_GET_STATE, &s) == 0 && s.regs.rip == CODE,
	      "spin: the guest is still at its loop (rip %#llx)", (unsigned long long)s.regs.rip);
	printf("spin: %d RUN calls, %llu host interrupts forwarded in %llu ms\n", runs,
	       (unsigned long long)fwd, (unsigned long long)(t1 - t0));
	guest_destroy(&g);
}

/* The data page of the guests in guests.S (guests.h has the offsets). */
struct cpu_probe {
	uint64_t switch_to_host, passage;
	uint64_t cs, ss, cr0, cr3, cr4;
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) gdtr;
	uint8_t pad0[6];
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idtr;
	uint8_t pad1[6];
	uint64_t tr, rflags, efer, gs_base;
	uint64_t cr3_2, cr4_2;
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) gdtr_2;
	uint8_t pad2[6];
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idtr_2;
	uint8_t pad3[6];
	uint64_t tr_2, fs_base_2, gs_base_2, kgs_base_2;
	int64_t forward;
	uint64_t int3;
	uint64_t deadline;
	uint64_t msr_guest, msr_after;
};
_Static_assert(offsetof(struct cpu_probe, passage) == P_PASSAGE, "guests.h");
_Static_assert(offsetof(struct cpu_probe, cr4) == P_CR4, "guests.h");
_Static_assert(offsetof(struct cpu_probe, gdtr) == P_GDTR, "guests.h");
_Static_assert(offsetof(struct cpu_probe, idtr) == P_IDTR, "guests.h");
_Static_assert(offsetof(struct cpu_probe, gs_base) == P_GS_BASE, "guests.h");
_Static_assert(offsetof(struct cpu_probe, gdtr_2) == P_GDTR_2, "guests.h");
_Static_assert(offsetof(struct cpu_probe, idtr_2) == P_IDTR_2, "guests.h");
_Static_assert(offsetof(struct cpu_probe, kgs_base_2) == P_KGS_BASE_2, "guests.h");
_Static_assert(offsetof(struct cpu_probe, int3) == P_INT3, "guests.h");
_Static_assert(offsetof(struct cpu_probe, deadline) == P_DEADLINE, "guests.h");
_Static_assert(offsetof(struct cpu_probe, msr_after) == P_MSR_AFTER, "guests.h");
_Static_assert(sizeof(struct cpu_probe) == P_SIZE, "guests.h");
_Static_assert(offsetof(struct coop_passage, op) + offsetof(struct coop_op, params) ==
	       0x448, "guests.S: OP_VECTOR");
_Static_assert(offsetof(struct coop_passage, op) + offsetof(struct coop_op, seq) ==
	       0x440 + 520, "guests.S: OP_SEQ");

extern const uint8_t cpu_state_guest[], cpu_state_guest_end[];
extern const uint8_t own_state_guest[], own_state_guest_end[], own_state_int3[];
extern const uint8_t mce_guest[], mce_guest_end[];
extern const uint8_t tripwire_guest[], tripwire_guest_end[];
extern const uint8_t switch_loop_guest[], switch_loop_guest_end[];

#define X86_CR4_PGE (1u << 7)
#define X86_EFLAGS_IF (1u << 9)

static uint64_t user_gs_base(void)
{
	unsigned long v = 0;

	syscall(SYS_arch_prctl, ARCH_GET_GS, &v);
	return v;
}

/*
 * The CPU state the small guest runs with: ring 0 (CS 0x10, SS 0x18),
 * the module's tables (GDT, then the IDT a page above it, TR 0x40),
 * interrupts on, and CR4.PGE off - no global host translation is
 * visible in its address space.  It sets a GS base of its own: the
 * host's comes back before anything of the host's runs (the kernel's
 * before its IDT, the process's user one after), or the host would not
 * be here to check.
 */
static void test_cpu_state(void)
{
	struct cpu_probe *p;
	struct coop_kmod_run r = { 0 };
	struct guest g;
	uint64_t gs = user_gs_base();

	check(guest_create(&g) == 0, "cpu state: CREATE: %s", strerror(errno));
	memcpy(at(&g, CODE), cpu_state_guest, (size_t)(cpu_state_guest_end - cpu_state_guest));
	p = (struct cpu_probe *)at(&g, DATA);
	p->switch_to_host = g.c.switch_to_host;
	check(guest_load(&g, CODE) == 0, "cpu state: LOAD: %s", strerror(errno));
	check(io(g.fd, COOP_KMOD_RUN, &r) == 0 && r.exit == COOP_KMOD_EXIT_OPERATION,
	      "cpu state: RUN: exit %u (%s)", r.exit, strerror(errno));
	check((p->cs & 3) == 0 && p->cs == 0x10 && p->ss == 0x18, "cpu state: CS %#llx SS %#llx, want ring 0",
	      (unsigned long long)p->cs, (unsigned long long)p->ss);
	check(p->tr == 0x40 && p->idtr.base == p->gdtr.base + 4096 && p->idtr.limit == 4095,
	      "cpu state: TR %#llx, GDT %#llx, IDT %#llx/%#x: want the module's",
	      (unsigned long long)p->tr, (unsigned long long)p->gdtr.base,
	      (unsigned long long)p->idtr.base, p->idtr.limit);
	check(!(p->cr4 & X86_CR4_PGE), "cpu state: CR4 %#llx: PGE must be off in the guest",
	      (unsigned long long)p->cr4);
	check(p->rflags & X86_EFLAGS_IF, "cpu state: RFLAGS %#llx: IF on",
	      (unsigned long long)p->rflags);
	check(user_gs_base() == gs, "cpu state: the process's GS base survived the guest's");
	printf("cpu state: CPL 0, TR %#llx, CR4 %#llx (PGE 0 in the guest), EFER %#llx, "
	       "host GS base restored\n", (unsigned long long)p->tr, (unsigned long long)p->cr4,
	       (unsigned long long)p->efer);
	guest_destroy(&g);
}

/* An interrupt gate: @handler on IST @ist (0: none), kernel CS. */
static void set_gate(uint8_t *idt, unsigned int vector, uint64_t handler, unsigned int ist)
{
	uint8_t *gt = idt + vector * 16;

	memset(gt, 0, 16);
	gt[0] = (uint8_t)handler, gt[1] = (uint8_t)(handler >> 8);
	gt[2] = 0x10, gt[3] = 0;
	gt[4] = (uint8_t)ist;
	gt[5] = 0x8e; /* present, DPL 0, 64-bit interrupt gate */
	gt[6] = (uint8_t)(handler >> 16), gt[7] = (uint8_t)(handler >> 24);
	memcpy(gt + 8, (const uint8_t *)&handler + 4, 4);
}

/*
 * A guest that owns its state (LOAD_LINUX, as a Linux guest boots): one
 * of guests.S's, copied 2 MiB into the module's physical region, linked
 * at 0xffffffff81000000.  Needs the region (phys_ram=).
 */
struct own_guest {
	int fd;
	uint8_t *ram, *img;
	struct coop_passage *pa;
	struct cpu_probe *p;
	struct coop_kmod_create c;
	struct coop_kmod_load_linux l;
	struct coop_kmod_layout lay;
};

#define OWN_KVA 0xffffffff81000000ull
#define OWN_RAM (8ull << 20)

static bool own_guest_create(struct own_guest *o, const uint8_t *blob, const uint8_t *end)
{
	struct coop_kmod_version v = { 0 };

	memset(o, 0, sizeof(*o));
	o->fd = open(COOP_KMOD_DEVICE, O_RDWR | O_CLOEXEC);
	check(io(o->fd, COOP_KMOD_VERSION, &v) == 0 && io(o->fd, COOP_KMOD_GET_LAYOUT, &o->lay) == 0,
	      "own state: VERSION, GET_LAYOUT: %s", strerror(errno));
	check(o->lay.phys_size >= OWN_RAM, "own state: the module has no physical region "
	      "(phys_ram=): %llu bytes", (unsigned long long)o->lay.phys_size);
	if (o->lay.phys_size < OWN_RAM)
		goto err;
	o->c = (struct coop_kmod_create){ .ram_size = OWN_RAM, .flags = COOP_KMOD_CREATE_LINUX };
	check(io(o->fd, COOP_KMOD_CREATE, &o->c) == 0 &&
		      io(o->fd, COOP_KMOD_GET_LAYOUT, &o->lay) == 0 && o->lay.busy,
	      "own state: CREATE_LINUX claims the region: %s", strerror(errno));
	o->ram = mmap(NULL, OWN_RAM, PROT_READ | PROT_WRITE, MAP_SHARED, o->fd, 0);
	check(o->ram != MAP_FAILED, "own state: mmap: %s", strerror(errno));
	if (o->ram == MAP_FAILED)
		goto err;
	o->img = o->ram + (2 << 20);
	memcpy(o->img, blob, (size_t)(end - blob));
	o->l = (struct coop_kmod_load_linux){
		.entry = OWN_KVA, .boot_params = o->lay.phys_start + 0x10000,
		.kernel_phys = o->lay.phys_start + (2 << 20), .kernel_size = 0x10000,
		.kernel_va = OWN_KVA,
		.page_offset = v.paging_levels == 5 ? 0xff11000000000000ull : 0xffff888000000000ull,
	};
	check(io(o->fd, COOP_KMOD_LOAD_LINUX, &o->l) == 0, "own state: LOAD_LINUX: %s",
	      strerror(errno));
	o->pa = (struct coop_passage *)o->ram;
	o->p = (struct cpu_probe *)(o->img + PROBE_DATA);
	o->p->switch_to_host = o->c.switch_to_host;
	o->p->passage = o->l.page_offset + o->lay.phys_start;
	return true;
err:
	close(o->fd);
	return false;
}

/* RUN until the guest leaves TERMINATE (at most @max other operations); how many it left. */
static long own_guest_run_ops(struct own_guest *o, long max)
{
	struct coop_kmod_run r;
	long ops = 0;

	for (;;) {
		memset(&r, 0, sizeof(r));
		if (io(o->fd, COOP_KMOD_RUN, &r) || r.exit == COOP_KMOD_EXIT_EXCEPTION ||
		    r.exit == COOP_KMOD_EXIT_SOFT_INT || r.exit == COOP_KMOD_EXIT_BAD_VIRQ) {
			check(0, "own state: RUN: exit %u vector %u error %#llx cr2 %#llx (%s)",
			      r.exit, r.vector, (unsigned long long)r.error,
			      (unsigned long long)r.cr2, strerror(errno));
			return ops;
		}
		if (r.exit == COOP_KMOD_EXIT_OPERATION && o->pa->op.code == COOP_OP_TERMINATE)
			return ops;
		if (r.exit == COOP_KMOD_EXIT_OPERATION && ++ops > max) {
			check(0, "own state: operation %u again and again", o->pa->op.code);
			return ops;
		}
	}
}

static int own_guest_run(struct own_guest *o)
{
	return (int)own_guest_run_ops(o, 10);
}

static void own_guest_destroy(struct own_guest *o)
{
	munmap(o->ram, OWN_RAM);
	close(o->fd);
}

/*
 * Its own GDT, TSS (the module's stacks at its IST 6 and 7) and IDT (the
 * module's NMI and #MC stubs at 2 and 18, its own breakpoint handler),
 * its own FS, GS and inactive GS bases.  Each survives the switch into
 * the host and back; CR4.PGE stays off; FORWARD of a vector the host
 * never raised is refused; its own IDT takes its breakpoints.
 */
static void test_own_state(void)
{
	const struct coop_boot_kmod *k;
	struct own_guest o;
	struct cpu_probe *p;
	uint8_t *gdt, *tss;
	uint64_t tssva = OWN_KVA + OWN_TSS, gs = user_gs_base(), ist;
	int ops;

	if (!own_guest_create(&o, own_state_guest, own_state_guest_end))
		return;
	k = &o.pa->boot.kmod;
	p = o.p;
	check(o.pa->boot.flags & COOP_BOOT_F_LINUX && k->phys_base == o.lay.phys_start &&
		      k->switcher_pmds >= 1 && k->switcher_pmds <= COOP_LINUX_MAX_PMDS && k->nmi_stub,
	      "own state: boot.kmod filled in (flags %#x, %u PMDs)", o.pa->boot.flags,
	      k->switcher_pmds);
	set_gate(o.img + OWN_IDT, 3, OWN_KVA + (uint64_t)(own_state_int3 - own_state_guest), 0);
	set_gate(o.img + OWN_IDT, 2, k->nmi_stub, COOP_LINUX_IST_NMI);
	set_gate(o.img + OWN_IDT, 18, k->mc_stub, COOP_LINUX_IST_MC);
	gdt = o.img + OWN_GDT;
	memcpy(gdt + 1 * 8, "\xff\xff\0\0\0\x9b\xcf\0", 8); /* 32-bit kernel code */
	memcpy(gdt + 2 * 8, "\xff\xff\0\0\0\x9b\xaf\0", 8); /* 64-bit kernel code */
	memcpy(gdt + 3 * 8, "\xff\xff\0\0\0\x93\xcf\0", 8); /* kernel data */
	/* TSS descriptor at 8 (selector 0x40): available 64-bit TSS, limit 0x67. */
	gdt[64] = 0x67, gdt[66] = (uint8_t)tssva, gdt[67] = (uint8_t)(tssva >> 8);
	gdt[68] = (uint8_t)(tssva >> 16), gdt[69] = 0x89, gdt[71] = (uint8_t)(tssva >> 24);
	memcpy(gdt + 72, (const uint8_t *)&tssva + 4, 4);
	tss = o.img + OWN_TSS;
	ist = k->ist_nmi_top;
	memcpy(tss + 36 + 8 * (COOP_LINUX_IST_NMI - 1), &ist, 8);
	ist = k->ist_mc_top;
	memcpy(tss + 36 + 8 * (COOP_LINUX_IST_MC - 1), &ist, 8);
	tss[102] = 104; /* no I/O bitmap */
	ops = own_guest_run(&o);
	check(p->cs == 0x10 && !(p->rflags & X86_EFLAGS_IF),
	      "own state: entered in ring 0 with interrupts off (CS %#llx RFLAGS %#llx)",
	      (unsigned long long)p->cs, (unsigned long long)p->rflags);
	check(!(p->cr4 & X86_CR4_PGE) && p->cr4_2 == p->cr4 && p->cr3_2 == p->cr3,
	      "own state: CR4 %#llx then %#llx (PGE off), CR3 kept", (unsigned long long)p->cr4,
	      (unsigned long long)p->cr4_2);
	check(p->gdtr_2.base == OWN_KVA + OWN_GDT && p->idtr_2.base == OWN_KVA + OWN_IDT &&
		      p->tr_2 == 0x40,
	      "own state: its GDT %#llx, IDT %#llx, TR %#llx survive the switch",
	      (unsigned long long)p->gdtr_2.base, (unsigned long long)p->idtr_2.base,
	      (unsigned long long)p->tr_2);
	check(p->fs_base_2 == OWN_FS_BASE && p->gs_base_2 == OWN_GS_BASE &&
		      p->kgs_base_2 == OWN_KGS_BASE,
	      "own state: its bases FS %#llx GS %#llx KERNEL_GS %#llx survive the switch",
	      (unsigned long long)p->fs_base_2, (unsigned long long)p->gs_base_2,
	      (unsigned long long)p->kgs_base_2);
	check(p->forward == -EINVAL, "own state: FORWARD of a vector not in service: %lld, want %d",
	      (long long)p->forward, -EINVAL);
	check(p->int3 == 2, "own state: its IDT took %llu of 2 breakpoints",
	      (unsigned long long)p->int3);
	check(user_gs_base() == gs, "own state: the process's GS base survived the guest's");
	printf("own state: GDT, IDT, TR, FS/GS/KERNEL_GS bases and CR4 (PGE 0) kept across "
	       "%d switches; FORWARD %lld; %llu breakpoints in its own IDT\n", ops + 2,
	       (long long)p->forward, (unsigned long long)p->int3);
	own_guest_destroy(&o);
}

/*
 * --tripwire: a guest that owns its state changes SYSCALL_MASK, which it
 * must leave alone.  The module's debug build warns (tests.sh reads the
 * log) and puts the host's value back, which the guest finds on its next
 * entry.
 */
static int tripwire(void)
{
	struct own_guest o;

	if (!own_guest_create(&o, tripwire_guest, tripwire_guest_end))
		return 1;
	own_guest_run(&o);
	check(o.p->msr_after == (o.p->msr_guest ^ 1),
	      "tripwire: SYSCALL_MASK %#llx after the switch, %#llx as the guest left it: "
	      "want the host's back", (unsigned long long)o.p->msr_after,
	      (unsigned long long)o.p->msr_guest);
	printf("tripwire: the guest set SYSCALL_MASK %#llx, found %#llx after a switch\n",
	       (unsigned long long)o.p->msr_guest, (unsigned long long)o.p->msr_after);
	own_guest_destroy(&o);
	return failures ? 1 : 0;
}

/*
 * --switches N: a guest that owns its state, with GS, FS and inactive GS
 * bases no kernel would have, makes N null round trips, each one back to
 * user space (NOP), while tests.sh fires NMIs at its CPU: every host NMI
 * entry around those switches must find the host's GS base.  Its own
 * comes back each time.
 */
static int switches(long n)
{
	struct own_guest o;

	if (n < 1 || !own_guest_create(&o, switch_loop_guest, switch_loop_guest_end))
		return 1;
	o.p->deadline = (uint64_t)n;
	check(own_guest_run_ops(&o, n + 1) == n, "switches: %ld round trips through user space", n);
	check(o.p->gs_base_2 == OWN_GS_BASE, "switches: its GS base %#llx after %ld switches",
	      (unsigned long long)o.p->gs_base_2, n);
	printf("switches: %ld round trips of a guest with GS base %#x, its own kept\n", n,
	       OWN_GS_BASE);
	own_guest_destroy(&o);
	return failures ? 1 : 0;
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* The CPU is Intel's (its machine checks are broadcast). */
static bool intel(void)
{
	char line[256];
	bool yes = false;
	FILE *f = fopen("/proc/cpuinfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "vendor_id", 9)) {
			yes = strstr(line, "GenuineIntel") != NULL;
			break;
		}
	if (f)
		fclose(f);
	return yes;
}

/* What mce_ask needs: the guest's data page, the CPU it spins on. */
struct mce_request {
	volatile struct cpu_probe *probe;
	int cpu;
	bool asked;
};

/*
 * On any other CPU: wait (up to 10 s) until the guest says it spins with
 * interrupts off, then ask the harness for the machine check, so that it
 * can only hit the guest.
 */
static void *mce_ask(void *arg)
{
	struct mce_request *q = arg;
	FILE *con;
	int i;

	for (i = 0; i < 10000 && !q->probe->int3; i++)
		usleep(1000);
	if (!q->probe->int3)
		return NULL;
	/*
	 * A recoverable data-load error in a user process (Intel SRAR:
	 * VAL UC EN MISCV ADDRV S AR, MCACOD 0x134) at an address that is
	 * no host RAM (the memmap= region); MCG_STATUS RIPV EIPV MCIP.
	 * On Intel broadcast (-b), as a machine check is there: the host's
	 * handler waits for every CPU to enter it, and panics otherwise.
	 * On AMD to this CPU alone: the others would take theirs in the
	 * host kernel, a fatal one.
	 */
	/*
	 * Through the kernel's log at emergency level: its console write
	 * polls the serial port, where a tty write would wait for an
	 * interrupt that may be routed to the spinning CPU.
	 */
	con = fopen("/dev/kmsg", "w");
	if (!con)
		return NULL;
	fprintf(con, "<0>COOP_KMOD_HMP: mce %s%d 1 0xbd80000000000134 0x7 0x2f000000 0x8c\n",
		intel() ? "-b " : "", q->cpu);
	fclose(con);
	q->asked = true;
	return NULL;
}

/*
 * --mce CPU SECONDS: a guest on CPU spins SECONDS with interrupts off
 * while the harness outside injects a machine check into that CPU
 * (qemu-run.sh serves the COOP_KMOD_HMP line on the console): only the
 * guest can take it.  The host's handler must see it (tests.sh reads its
 * log).  Exit 0 when the guest ran to its end with the check forwarded,
 * 2 when none arrived; the handler may also end this process (SIGBUS):
 * an error it cannot recover from in user space.
 */
static int mce_spin(int cpu, int seconds)
{
	struct coop_kmod_run r = { 0 };
	struct mce_request req;
	struct cpu_probe *p;
	struct guest g;
	struct timespec t0, t1;
	uint64_t c0, c1, forwarded = 0;
	pthread_attr_t attr;
	pthread_t asker;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		perror("coop-kmod-ioctl --mce: sched_setaffinity");
		return 1;
	}
	/* The TSC's rate, over 100 ms. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	c0 = rdtsc();
	usleep(100000);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	c1 = rdtsc();
	if (guest_create(&g)) {
		perror("coop-kmod-ioctl --mce: CREATE");
		return 1;
	}
	memcpy(at(&g, CODE), mce_guest, (size_t)(mce_guest_end - mce_guest));
	p = (struct cpu_probe *)at(&g, DATA);
	p->switch_to_host = g.c.switch_to_host;
	p->deadline = (c1 - c0) * (uint64_t)seconds * 1000000000ull /
		      (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000000ll + (t1.tv_nsec - t0.tv_nsec));
	if (guest_load(&g, CODE)) {
		perror("coop-kmod-ioctl --mce: LOAD");
		return 1;
	}
	printf("mce: a guest spins %d s on CPU %d with interrupts off; a machine check is asked for\n",
	       seconds, cpu);
	/*
	 * The request goes out from another CPU once the guest says it
	 * spins: a thread that starts there (nothing else runs on the
	 * guest's CPU while it spins, not even a migration away from it).
	 */
	req = (struct mce_request){ .probe = p, .cpu = cpu };
	CPU_ZERO(&set);
	CPU_SET(cpu ? 0 : 1, &set);
	if (pthread_attr_init(&attr) || pthread_attr_setaffinity_np(&attr, sizeof(set), &set) ||
	    pthread_create(&asker, &attr, mce_ask, &req)) {
		perror("coop-kmod-ioctl --mce: a thread on another CPU");
		return 1;
	}
	do {
		memset(&r, 0, sizeof(r));
		if (io(g.fd, COOP_KMOD_RUN, &r)) {
			perror("coop-kmod-ioctl --mce: RUN");
			return 1;
		}
		forwarded += r.stats.irqs_forwarded;
	} while (r.exit == COOP_KMOD_EXIT_INTERRUPTED);
	pthread_join(asker, NULL);
	printf("mce: the guest spun %d s on CPU %d with interrupts off: exit %u vector %u, "
	       "%llu forwarded%s\n", seconds, cpu, r.exit, r.vector, (unsigned long long)forwarded,
	       req.asked ? "" : "; it never said it spins");
	guest_destroy(&g);
	return r.exit == COOP_KMOD_EXIT_OPERATION && forwarded ? 0 : 2;
}

int main(int argc, char **argv)
{
	struct stat st;

	if (argc == 4 && !strcmp(argv[1], "--mce"))
		return mce_spin(atoi(argv[2]), atoi(argv[3]));
	if (argc == 2 && !strcmp(argv[1], "--tripwire"))
		return tripwire();
	if (argc == 3 && !strcmp(argv[1], "--switches"))
		return switches(atol(argv[2]));
	if (argc >= 3 && !strcmp(argv[1], "--without-cap-sys-rawio")) {
		if (drop_cap(CAP_SYS_RAWIO)) {
			perror("coop-kmod-ioctl: cannot drop CAP_SYS_RAWIO");
			return 1;
		}
		execvp(argv[2], argv + 2);
		perror(argv[2]);
		return 127;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (stat(COOP_KMOD_DEVICE, &st)) {
		printf("SKIP: %s: %s (load coop.ko)\n", COOP_KMOD_DEVICE, strerror(errno));
		return 77;
	}
	check(S_ISCHR(st.st_mode) && (st.st_mode & 0777) == 0600,
	      "%s is a 0600 char device (mode %o)", COOP_KMOD_DEVICE, st.st_mode & 0777);
	test_permissions();
	test_version();
	test_create_bad();
	test_load_bad();
	test_round_trip();
	test_exceptions();
	test_soft_int();
	test_ram_kinds();
	test_fpu();
	test_ring0_round_trip();
	test_spin();
	test_cpu_state();
	test_own_state();
	printf("%d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
