/* SPDX-License-Identifier: MIT */
/*
 * fuzz_router.c - libFuzzer harness for the message path: the router
 * (core/router.c), the device backends behind it (cobd on memfd images,
 * conet on UNIX datagram sockets, cocon as --exec with its output to
 * /dev/null) and, for most inputs, the fault layer with one of a few
 * fixed plans.  The input is what a hostile guest controls - the to_host
 * window and its MESSAGE hypercalls, the rest of the passage, its RAM -
 * plus when the host's clock moves and what the network delivers
 * (router_input.h has the format).  The harness does what the run loop
 * (core/monitor.c) does with it: shim_router_serve for MESSAGE,
 * shim_router_deliver before the guest runs again, the fault layer's
 * release of held messages and vIRQs, the watched fds.
 *
 * Ending the guest (vm->state != RUNNING) is a valid outcome; a crash, an
 * ASan/UBSan report or a broken invariant of the router (checked after
 * each step) is a finding.  Each input gets a new guest: zeroed RAM,
 * devices opened anew, images emptied, the clock at the same start.  The
 * clock is the harness's (shim_now_ns is wrapped at link time), so that
 * delays and time windows come due by the input, not by the machine's
 * speed: a crash file replays the same way.
 * Run: tests/fuzz/fuzz.sh router SECONDS.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <sanitizer/asan_interface.h>

#include "core/shim.h"
#include "devices/devices.h"
#include "router_input.h"

#define FUZZ_NAME "fuzz_router"
#include "fuzz.h"

#define CLOCK_START 1000000000ull /* the clock at each guest's start: 1 s */

int LLVMFuzzerInitialize(int *argc, char ***argv);
uint64_t __wrap_shim_now_ns(void);
unsigned int __wrap_crc32_iscsi(unsigned char *buf, int len, unsigned int crc);
unsigned int __real_crc32_iscsi(unsigned char *buf, int len, unsigned int crc);


/*
 * The plans, by number (0: no fault layer).  Rates are high and delays
 * short, so that a few commands see every kind of fault fire and come due.
 */
static const char *const plans[ROUTER_NPLANS] = {
	/* 1: every message fault, the console's too */
	"corrupt bits=4 prob=15%\n"
	"truncate keep=9 prob=5%\n"
	"drop prob=5%\n"
	"duplicate prob=10%\n"
	"delay uniform 100us 3ms prob=10%\n"
	"reorder gap=2 prob=10%\n"
	"corrupt device=cocon prob=10%\n"
	"duplicate device=cocon dir=to_guest prob=10%\n"
	"drop device=cocon type=write prob=5%\n",
	/* 2: the block backend's I/O, and vIRQs */
	"io eio prob=15%\n"
	"io short op=read prob=15%\n"
	"io enospc prob=15%\n"
	"io eio op=flush prob=30%\n"
	"irq drop vector=cobd prob=30%\n"
	"irq delay uniform 1us 2ms vector=cocon prob=30%\n"
	"irq delay normal 1ms 300us prob=10%\n"
	"irq spurious vector=200 prob=10%\n"
	"irq drop vector=timer every=3\n",
	/* 3: counted, windowed and selective rules */
	"seed 7\n"
	"duplicate device=cobd every=2\n"
	"corrupt bits=64 device=cobd dir=to_guest type=reply every=3\n"
	"drop device=conet window=2-5\n"
	"delay 2ms device=cobd seq=0-3 window=1ms-100ms\n"
	"reorder gap=1000 device=conet dir=to_host prob=50%\n"
	"truncate device=cobd type=request dir=to_host window=3-\n"
	"io short unit=0 every=2\n",
	/* 4: faults/examples/harsh.plan's mix, and then some */
	"corrupt bits=8 prob=20%\n"
	"truncate keep=3 prob=5%\n"
	"duplicate prob=10%\n"
	"reorder gap=2 prob=10%\n"
	"drop prob=3%\n"
	"irq spurious vector=cobd prob=5%\n"
	"delay normal 2ms 1ms max=4ms device=cobd dir=to_guest prob=20%\n"
	"io eio op=write prob=10%\n",
};

static struct {
	uint8_t *ram;                /* guest RAM, ROUTER_MEM bytes (heap: ASan sees its ends) */
	int cobd0, cobd3;            /* the images (memfds) */
	int peer;                    /* conet0's peer: frames go to and come from here */
	int devnull;                 /* cocon's output */
	char dir[64];                /* sockets and plan files */
	char disk0[64], disk3[64];   /* --disk specs */
	char net0[192], net2[160];   /* --net specs */
	char n0[128], n2[128], peer_path[128];
	char plan[ROUTER_NPLANS][96]; /* plan files */
} h;

static uint64_t clock_ns;

/* The host's clock, as the fault layer and the router read it: the input's. */
uint64_t __wrap_shim_now_ns(void)
{
	return clock_ns;
}

/*
 * ISA-L's CRC is assembly ASan cannot see into: check what it is given
 * (message payloads, block buffers in guest RAM) is memory the host may read.
 */
unsigned int __wrap_crc32_iscsi(unsigned char *buf, int len, unsigned int crc)
{
	void *bad = len > 0 ? __asan_region_is_poisoned(buf, (size_t)len) : NULL;

	if (bad) {
		fprintf(stderr, "fuzz_router: crc32_iscsi(%p, %d) reads poisoned memory at %p\n",
			(void *)buf, len, bad);
		__asan_describe_address(bad);
		abort();
	}
	return __real_crc32_iscsi(buf, len, crc);
}

static void cleanup(void)
{
	unlink(h.peer_path);
	for (int i = 0; i < ROUTER_NPLANS; i++)
		unlink(h.plan[i]);
	rmdir(h.dir);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f)) {
		fprintf(stderr, "fuzz_router: cannot write %s\n", path);
		exit(1);
	}
}

static int bind_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("fuzz_router: peer socket");
		exit(1);
	}
	return fd;
}

/* Once per process: images, sockets, plan files; nothing the input sees changes here. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("COOP_FUZZ_TMP") ? getenv("COOP_FUZZ_TMP") : getenv("TMPDIR");
	uint8_t pattern[ROUTER_COBD3_OFFSET + ROUTER_COBD3_SIZE];

	(void)argc, (void)argv;
	/* conet's sockets ask for SIGRTMIN+1 when readable (O_ASYNC): the run loop's business. */
	signal(SIGRTMIN + 1, SIG_IGN);
	signal(SIGIO, SIG_IGN);
	/* Socket paths are short; binding one on tmpfs costs a twentieth of ext4 (fuzz.sh). */
	if (!tmp || strlen(tmp) > 40)
		tmp = "/tmp";
	snprintf(h.dir, sizeof(h.dir), "%s/coop-fuzz-XXXXXX", tmp);
	if (!mkdtemp(h.dir)) {
		perror("fuzz_router: mkdtemp");
		exit(1);
	}
	h.ram = aligned_alloc(COOP_PAGE_SIZE, ROUTER_MEM);
	h.cobd0 = memfd_create("cobd0", MFD_CLOEXEC);
	h.cobd3 = memfd_create("cobd3", MFD_CLOEXEC);
	h.devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 7 + (i >> 9));
	if (!h.ram || h.cobd0 < 0 || h.cobd3 < 0 || h.devnull < 0 ||
	    pwrite(h.cobd3, pattern, sizeof(pattern), 0) != (ssize_t)sizeof(pattern)) {
		perror("fuzz_router: setup");
		exit(1);
	}
	snprintf(h.disk0, sizeof(h.disk0), "cobd0=/proc/self/fd/%d", h.cobd0);
	snprintf(h.disk3, sizeof(h.disk3), "cobd3=/proc/self/fd/%d,ro,offset=%d", h.cobd3,
		 ROUTER_COBD3_OFFSET);
	snprintf(h.n0, sizeof(h.n0), "%s/n0", h.dir);
	snprintf(h.n2, sizeof(h.n2), "%s/n2", h.dir);
	snprintf(h.peer_path, sizeof(h.peer_path), "%s/peer", h.dir);
	snprintf(h.net0, sizeof(h.net0), "conet0=unix:%s:%s", h.n0, h.peer_path);
	snprintf(h.net2, sizeof(h.net2), "conet2=unix:%s", h.n2);
	for (int i = 0; i < ROUTER_NPLANS; i++) {
		snprintf(h.plan[i], sizeof(h.plan[i]), "%s/%d.plan", h.dir, i + 1);
		write_file(h.plan[i], plans[i]);
	}
	h.peer = bind_unix(h.peer_path);
	atexit(cleanup);
	return 0;
}

/* The input, read front to back; past its end, zeroes. */
struct cursor {
	const uint8_t *p;
	size_t n;
};

static uint64_t take(struct cursor *c, unsigned int bytes)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < bytes && c->n; i++, c->p++, c->n--)
		v |= (uint64_t)*c->p << (8 * i);
	return v;
}

/* Up to len bytes of the input: where they are, and how many there were. */
static const uint8_t *take_bytes(struct cursor *c, size_t *len)
{
	const uint8_t *p = c->p;

	if (*len > c->n)
		*len = c->n;
	c->p += *len;
	c->n -= *len;
	return p;
}

/* vm.c's shim_vm_create, without a kernel file, signals or a switch. */
static void guest_create(struct shim_vm *vm, unsigned int plan, uint64_t seed)
{
	struct shim_config cfg = {
		.mem_size = ROUTER_MEM,
		.exec = "blk info 0; echo hi",
		.quiet = true,
		.capture_fd = h.devnull,
		.disks = { h.disk0, h.disk3 },
		.ndisks = 2,
		.nets = { h.net0, h.net2 },
		.nnets = 2,
		.faults = plan ? h.plan[plan - 1] : NULL,
		.fault_log = plan ? "/dev/null" : NULL, /* the log is written: its code runs */
		.seed = seed,
		.has_seed = true,
	};
	char err[SHIM_ERR_MAX];

	clock_ns = CLOCK_START;
	memset(h.ram, 0, ROUTER_MEM);
	/* an empty image: what a previous input wrote is gone */
	if (ftruncate(h.cobd0, 0) || ftruncate(h.cobd0, ROUTER_COBD0_SIZE))
		abort();
	memset(vm, 0, sizeof(*vm));
	vm->queue_tail = &vm->queue_head;
	vm->irq.event_fd = -1;
	for (int i = 0; i < SHIM_MAX_WATCH; i++)
		vm->watches[i].fd = -1;
	vm->ram = h.ram;
	vm->passage = (void *)h.ram; /* page-aligned, as guest RAM is */
	vm->mem_size = ROUTER_MEM;
	vm->guard = COOP_GUEST_BASE + ROUTER_MEM - COOP_BOOT_STACK_SIZE - COOP_STACK_GUARD_SIZE;
	/* A kernel's read-only text: the host must not write there for the guest. */
	vm->image.nsegs = 1;
	vm->image.segs[0] = (struct shim_elf_seg){
		.vaddr = ROUTER_TEXT, .memsz = ROUTER_TEXT_SIZE, .filesz = ROUTER_TEXT_SIZE,
		.flags = PF_R | PF_X,
	};
	vm->image.start = vm->image.entry = ROUTER_TEXT;
	vm->image.end = ROUTER_TEXT + ROUTER_TEXT_SIZE;
	vm->hello_done = true;
	if (shim_faults_open(vm, &cfg, err, sizeof(err))) {
		fprintf(stderr, "fuzz_router: %s\n", err);
		abort();
	}
	for (unsigned int i = 0; i < shim_ndevices; i++) {
		const struct shim_device *d = shim_devices[i];

		vm->devices[d->id] = d;
		if (d->open(vm, &cfg, err, sizeof(err))) {
			fprintf(stderr, "fuzz_router: %s\n", err);
			abort();
		}
	}
}

/* shim_vm_destroy's part for what guest_create made. */
static void guest_destroy(struct shim_vm *vm)
{
	uint8_t buf[2048];

	for (unsigned int i = shim_ndevices; i-- > 0;)
		if (vm->devices[shim_devices[i]->id])
			shim_devices[i]->close(vm);
	shim_router_free(vm);
	shim_faults_close(vm, NULL);
	free(vm->fault_outcome);
	vm->fault_outcome = NULL;
	/* what the guest sent the peer */
	while (recv(h.peer, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		;
}

/* The host->guest queue: each device's count is what waits, tail is the last link. */
static void check_queue(const struct shim_vm *vm)
{
	uint32_t n[COOP_DEV_COUNT] = { 0 };
	struct shim_msg *const *link = &vm->queue_head;

	for (const struct shim_msg *m = vm->queue_head; m; m = m->next) {
		require(m->sent.device < COOP_DEV_COUNT, "queued for device %u", m->sent.device);
		require(m->hdr.length <= COOP_MSG_MAX_PAYLOAD, "queued %u bytes", m->hdr.length);
		n[m->sent.device]++;
		link = &m->next;
	}
	require(vm->queue_tail == link, "queue_tail is not the last link");
	for (int d = 0; d < COOP_DEV_COUNT; d++)
		require(n[d] == vm->queued[d], "device %d: %u queued, counted %u", d, n[d],
			vm->queued[d]);
}

/*
 * The to_guest window after a delivery into an empty one: count messages
 * that fill exactly bytes, each host->guest; without a fault layer to
 * damage them, each with its CRC right.
 */
static void check_to_guest(const struct shim_vm *vm)
{
	const struct coop_msg_window *w = &vm->passage->to_guest;
	uint32_t off = 0;

	require(w->bytes <= sizeof(w->data) && !(w->bytes % COOP_MSG_ALIGN), "to_guest %u bytes",
		w->bytes);
	for (uint32_t i = 0; i < w->count; i++) {
		struct coop_msg_hdr hdr;

		require(w->bytes - off >= sizeof(hdr), "message %u: no room for its header", i);
		memcpy(&hdr, w->data + off, sizeof(hdr));
		require(hdr.length <= COOP_MSG_MAX_PAYLOAD &&
			coop_msg_size(hdr.length) <= w->bytes - off, "message %u: %u bytes", i,
			hdr.length);
		if (!vm->faults)
			require(hdr.src == COOP_EP_HOST && hdr.dst == COOP_EP_GUEST &&
				shim_msg_crc(&hdr, w->data + off + sizeof(hdr)) == hdr.crc32c,
				"message %u: not a good host message", i);
		off += coop_msg_size(hdr.length);
	}
	require(off == w->bytes, "%u messages take %u bytes, the window says %u", w->count, off,
		w->bytes);
}

/* MESSAGE: fill the to_host window, then serve it as monitor.c's serve() does. */
static void cmd_message(struct shim_vm *vm, struct cursor *c)
{
	struct coop_msg_window *w = &vm->passage->to_host;
	unsigned int flags = (unsigned int)take(c, 1);
	size_t len = take(c, 2) % (sizeof(w->data) + 1);
	const uint8_t *src = take_bytes(c, &len);
	uint32_t off = 0, count = 0;

	memset(w, 0, sizeof(*w));
	memcpy(w->data, src, len);
	if (flags & ROUTER_MSG_RAW) {
		w->count = (uint32_t)take(c, 2);
		w->bytes = (uint32_t)take(c, 2);
		vm->passage->op.params.message.count = (uint32_t)take(c, 2);
	} else {
		/* Frame what fits, as the guest's msg.c would have (and sign it). */
		while (len - off >= sizeof(struct coop_msg_hdr)) {
			struct coop_msg_hdr hdr;

			memcpy(&hdr, w->data + off, sizeof(hdr));
			if (hdr.length > COOP_MSG_MAX_PAYLOAD ||
			    coop_msg_size(hdr.length) > len - off)
				break;
			if (flags & ROUTER_MSG_FIX_CRC) {
				hdr.crc32c = shim_msg_crc(&hdr, w->data + off + sizeof(hdr));
				memcpy(w->data + off, &hdr, sizeof(hdr));
			}
			count++;
			off += coop_msg_size(hdr.length);
		}
		w->count = count;
		w->bytes = off;
		vm->passage->op.params.message.count = count;
	}
	vm->passage->op.code = COOP_OP_MESSAGE;
	shim_router_serve(vm);
	if (vm->state == SHIM_VM_RUNNING)
		require(!w->count && !w->bytes, "served, the to_host window still says %u, %u",
			w->count, w->bytes);
}

/* DELIVER: what the run loop does before the guest runs again. */
static void cmd_deliver(struct shim_vm *vm, struct cursor *c)
{
	struct coop_msg_window *w = &vm->passage->to_guest;
	unsigned int flags = (unsigned int)take(c, 1);
	bool was_empty = !w->count && !w->bytes;

	shim_router_deliver(vm);
	if (vm->state == SHIM_VM_RUNNING && was_empty)
		check_to_guest(vm);
	if (flags & ROUTER_DELIVER_TAKE)
		w->count = w->bytes = 0;
}

/* TIME: the clock moves on; a tick maybe; what the fault layer held comes due. */
static void cmd_time(struct shim_vm *vm, struct cursor *c)
{
	unsigned int flags = (unsigned int)take(c, 1);

	clock_ns += take(c, 2) * 1000;
	if (flags & ROUTER_TIME_TICK) { /* what the tick's signal handler does */
		vm->passage->virq.ticks++;
		shim_virq_raise(vm, COOP_VEC_TIMER);
	}
	if (vm->faults) { /* monitor.c's release_held() */
		shim_faults_ticks(vm);
		shim_router_release(vm);
		shim_faults_raise_due(vm);
	}
}

/* POKE: the guest writes its half of the passage - or the host's. */
static void cmd_poke(struct shim_vm *vm, struct cursor *c)
{
	size_t off = take(c, 2) % COOP_PASSAGE_SIZE, len = take(c, 1) % 65;
	const uint8_t *src;

	if (len > COOP_PASSAGE_SIZE - off)
		len = COOP_PASSAGE_SIZE - off;
	src = take_bytes(c, &len);
	memcpy((uint8_t *)vm->passage + off, src, len);
}

/* RAM: the guest fills a buffer (what a cobd write will take). */
static void cmd_ram(struct shim_vm *vm, struct cursor *c)
{
	size_t off = COOP_PASSAGE_SIZE + take(c, 4) % (ROUTER_MEM - COOP_PASSAGE_SIZE);
	size_t len = take(c, 2);
	const uint8_t *src;

	if (len > ROUTER_MEM - off)
		len = ROUTER_MEM - off;
	src = take_bytes(c, &len);
	memcpy(h.ram + off, src, len);
	(void)vm;
}

/* FRAME: a datagram for a network unit; the run loop serves readable fds. */
static void cmd_frame(struct shim_vm *vm, struct cursor *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	unsigned int flags = (unsigned int)take(c, 1);
	size_t len = take(c, 2) % 2048;
	const uint8_t *src = take_bytes(c, &len);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s",
		 flags & ROUTER_FRAME_UNIT2 ? h.n2 : h.n0);
	/* a full socket loses it, as the kernel would */
	(void)sendto(h.peer, src, len, MSG_DONTWAIT, (struct sockaddr *)&sa, sizeof(sa));
	shim_watch_serve(vm);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static void (*const cmds[ROUTER_CMD_COUNT])(struct shim_vm *, struct cursor *) = {
		[ROUTER_CMD_MESSAGE] = cmd_message, [ROUTER_CMD_DELIVER] = cmd_deliver,
		[ROUTER_CMD_TIME] = cmd_time,       [ROUTER_CMD_POKE] = cmd_poke,
		[ROUTER_CMD_RAM] = cmd_ram,         [ROUTER_CMD_FRAME] = cmd_frame,
	};
	static struct shim_vm vm;
	struct cursor c = { data, size };
	unsigned int plan = (unsigned int)(take(&c, 1) % (ROUTER_NPLANS + 1));
	uint64_t seed = take(&c, 8);

	guest_create(&vm, plan, seed);
	while (c.n && vm.state == SHIM_VM_RUNNING) {
		cmds[take(&c, 1) % ROUTER_CMD_COUNT](&vm, &c);
		check_queue(&vm);
	}
	guest_destroy(&vm);
	return 0;
}
