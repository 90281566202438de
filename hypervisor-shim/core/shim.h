/* SPDX-License-Identifier: MIT */
/*
 * shim.h - the monitor's shared types and cross-file prototypes, grouped
 * by file.  The monitor is backend-independent: it loads the guest, runs
 * the loop "switch to guest -> serve the operation it left -> switch
 * back", and routes messages to the device backends.
 */
#ifndef SHIM_SHIM_H
#define SHIM_SHIM_H

#include <signal.h>
#include <stdbool.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <poll.h>
#include <time.h>

#include <coop/abi.h>

#include "backend/kmod/kmod.h"
#include "backend/user/user.h"
#include "core/linux.h"
#include "core/loader.h"
#include "faults/faults.h"

/* coop's exit statuses besides the guest's own 0..255 (../CLI.md). */
#define SHIM_EXIT_FAILURE 1 /* the host could not do its part (mmap, ...) */
#define SHIM_EXIT_USAGE 2   /* bad flag, file or guest image */
#define SHIM_EXIT_CRASH 3   /* the guest crashed, panicked or misbehaved */

#define SHIM_ERR_MAX 512
/* Guest RAM without --mem: coop's own guest (a Linux guest gets the module's region). */
#define SHIM_DEFAULT_MEM (COOP_U64(64) << 20)

struct shim_vm;

/* What `coop run` was asked to do. */
struct shim_config {
	unsigned int backend; /* SHIM_BACKEND_USER or _KMOD (backend/kmod/kmod.h) */
	const char *kernel;   /* guest kernel ELF */
	uint64_t mem_size;    /* guest RAM bytes, page-aligned; 0: the default */
	const char *cmdline;  /* guest kernel command line ("" if none; a Linux guest's defaults + this) */
	const char *initrd;   /* a Linux guest's initramfs (--initrd), NULL: none */
	uint32_t switch_mode; /* COOP_SWITCH_* */
	const char *exec;     /* --exec script, or NULL: console input */
	uint64_t watchdog_ns; /* end a guest that keeps the CPU this long; 0: never */
	bool quiet;           /* discard console output (benchmarks) ... */
	int capture_fd;       /* ... or, when > 0, send guest program output here */
	const char *console;  /* "stdio", "pty" or "unix:PATH" */
	const char *disks[COOP_BOOT_MAX_DEVS]; /* --disk specs, cobdN=PATH[,...] */
	unsigned int ndisks;
	const char *nets[COOP_BOOT_MAX_DEVS];  /* --net specs, conetN=... */
	unsigned int nnets;
	const char *report;   /* --report FILE, or NULL */
	const char *trace;    /* --trace DIR, or NULL */
	bool trace_force;     /* --force: replace a trace DIR already holds */
	bool stop_on_signals; /* SIGINT/SIGTERM/SIGHUP end the guest, not coop */
	bool trap_guest_syscalls; /* user backend: a system call from guest code is a crash */
	const char *faults;   /* --faults PLAN, or NULL */
	const char *fault_log; /* --fault-log FILE, or NULL */
	uint64_t seed;        /* --seed N ... */
	bool has_seed;        /* ... given: overrides the plan's */
};

/* Latency samples the monitor records for `coop bench` (TSC cycles). */
struct shim_samples {
	uint64_t *v;   /* preallocated by the bench */
	size_t cap;    /* entries in v */
	size_t n;      /* entries filled */
};

/* Counters of one run (the --report JSON grows out of these). */
struct shim_stats {
	uint64_t switches;                      /* guest->host->guest round trips */
	uint64_t by_op[COOP_OP_COUNT];          /* switches by the operation left */
	uint64_t msgs[COOP_DEV_COUNT][2];       /* [device][0 to_host, 1 to_guest] */
	uint64_t bytes[COOP_DEV_COUNT][2];      /* payload bytes, same indexing */
	uint64_t backpressure_waits;            /* host messages that waited for room */
	uint64_t irqs_forwarded;                /* host interrupts that hit guest code */
	uint64_t irqs_delivered;                /* vIRQs handed to the guest */
	uint64_t dev_errors[COOP_DEV_COUNT];    /* requests answered with an error */
	uint64_t console_dropped;               /* output bytes no reader took (pty) */
	bool traced;                            /* --trace recorded this run ... */
	uint64_t trace_discarded;               /* ... and the tracer discarded these events */
	uint64_t checked, check_bad;            /* guest end-to-end checks: units, bad */
};

#define SHIM_SITE_DEPTH 12   /* host frames kept of a fault site */
#define SHIM_SITE_NAME 80    /* "function+0xoff" */
#define SHIM_SITES_MAX 32    /* distinct I/O fault sites reported */

/* Where in the host an injected I/O fault struck: one per distinct backtrace. */
struct shim_faults_site {
	enum fault_kind kind;                        /* io eio, io short, io enospc */
	uint64_t count;                              /* faults injected there */
	unsigned int depth;                          /* frames, innermost first */
	char frame[SHIM_SITE_DEPTH][SHIM_SITE_NAME]; /* symbolised at the end of the run */
};

/* How the faults of a run turned out, kept for the report after the layer closed. */
struct shim_faults_outcome {
	struct fault_outcome out[FAULT_DEVS][FAULT_KIND_COUNT]; /* per device, kind */
	uint64_t seed;                              /* the seed used */
	uint64_t host_detected;                     /* caught by the host's own CRC check */
	unsigned int nsites;                        /* I/O fault sites ... */
	struct shim_faults_site sites[SHIM_SITES_MAX];
	uint64_t sites_lost;                        /* ... faults at sites beyond the table */
};

/* A host file descriptor that raises host interrupts (core/watch.c). */
typedef void (*shim_ready_fn)(struct shim_vm *vm, void *arg);
struct shim_watch {
	int fd;              /* -1: free slot */
	shim_ready_fn ready; /* called in host mode when fd is readable */
	void *arg;           /* for ready */
	bool paused;         /* back-pressure: not read until resumed */
	bool async;          /* O_ASYNC was set on it by us */
};
#define SHIM_MAX_WATCH 16

/* Host interrupts noted by a signal handler, served in host mode. */
#define SHIM_EV_ANY 0x1      /* something happened */
#define SHIM_EV_IO 0x2       /* a watched file descriptor is readable */
#define SHIM_EV_WATCHDOG 0x4 /* time to check that the guest gives the CPU back */
#define SHIM_EV_STOP 0x8     /* coop was asked to stop (stop_on_signals) */

/* A function symbol of the guest kernel. */
struct shim_sym {
	uint64_t addr;    /* its first byte */
	uint64_t size;    /* its length (0: unknown) */
	const char *name; /* in shim_symtab.strtab */
};

struct shim_symtab {
	struct shim_sym *syms; /* sorted by addr */
	size_t count;          /* entries in syms */
	char *strtab;          /* the names */
};

#define SHIM_MAX_FRAMES 48

/* One frame of a crash backtrace. */
struct shim_frame {
	uint64_t ip;   /* instruction pointer */
	uint64_t off;  /* offset into name (host frames) */
	bool guest;    /* in the guest kernel: named from its symbols */
	char name[64]; /* host frames: libunwind's name */
};

/* What a guest fault left behind (backend/user/signals.c). */
struct shim_crash {
	int sig;                    /* SIGSEGV, SIGILL, ... */
	int code;                   /* si_code */
	uint64_t addr;              /* si_addr: the faulting address */
	int syscall;                /* SIGSYS: the system call's number */
	long long gregs[23];        /* the guest's registers (mcontext gregs) */
	unsigned int nframes;       /* valid entries in frames */
	bool unwind_lost;           /* the guest's unwind table led astray: frames stop early */
	struct shim_frame frames[SHIM_MAX_FRAMES]; /* innermost first */
};

/*
 * The block transfer a message is about, for coop:message (blk_op,
 * blk_sector, blk_bytes): a well-formed cobd request's, and its reply's,
 * which does not carry them - the device hands them to the router with
 * the reply (shim_router_reply), so that a reply names exactly the
 * transfer of the request it answers, whatever was in flight meanwhile.
 * All zero for every other message.
 */
struct shim_msg_io {
	uint32_t op;     /* COOP_COBD_*; 0 (COOP_TRACE_BLK_NONE): not block I/O */
	uint32_t bytes;  /* request.length: bytes asked for (0 for FLUSH, INFO) */
	uint64_t sector; /* request.offset / COOP_COBD_SECTOR (0 for FLUSH, INFO) */
};

/*
 * A message off the window: host->guest waiting for room in the to_guest
 * window, or one the fault layer made (a copy, a damaged copy, one it
 * held back) that it hands back to the router to pass on.
 */
struct shim_msg {
	struct shim_msg *next;   /* FIFO order */
	bool to_guest;           /* the fault layer's: queue it for the guest, or dispatch it */
	int damaged;             /* the fault layer's: the fault kind that damaged it, or -1 */
	struct coop_msg_hdr sent; /* the header as the host made it, for the host's books */
	struct shim_msg_io io;    /* host->guest: the transfer it answers, for coop:message */
	struct coop_msg_hdr hdr;  /* the header on the wire: the fault layer may damage it */
	uint8_t payload[];       /* hdr.length bytes, right after hdr: the wire image */
};
/* The fault layer flips bits anywhere in hdr and payload as one wire image. */
_Static_assert(offsetof(struct shim_msg, payload) ==
		       offsetof(struct shim_msg, hdr) + sizeof(struct coop_msg_hdr),
	       "struct shim_msg: payload must follow hdr");

/* Messages in order: what the fault layer hands the router to pass on. */
struct shim_msg_list {
	struct shim_msg *head;
	struct shim_msg **tail;
};

static inline void shim_msg_list_init(struct shim_msg_list *l)
{
	l->head = NULL;
	l->tail = &l->head;
}

static inline void shim_msg_list_add(struct shim_msg_list *l, struct shim_msg *m)
{
	m->next = NULL;
	*l->tail = m;
	l->tail = &m->next;
}

enum shim_vm_state {
	SHIM_VM_RUNNING,
	SHIM_VM_POWERED_OFF, /* the guest terminated itself: exit_status */
	SHIM_VM_KILLED,      /* the guest crashed or misbehaved: reason */
	SHIM_VM_REFUSED,     /* the guest is not one we can run: reason */
	SHIM_VM_INTERRUPTED, /* coop got SIGINT/SIGTERM/SIGHUP: 128 + signal */
};

/*
 * Host messages one device may have waiting for room in the to_guest
 * window.  Host sources (console input, network frames) pause long before
 * (their devices stop reading); requests the guest keeps sending while it
 * never takes its replies reach it, and the guest is ended: the host's
 * memory is not the guest's to fill.
 */
#define SHIM_QUEUE_MAX 65536

struct shim_cocon; /* devices/cocon.c */
struct shim_cobd;  /* devices/cobd.c */
struct shim_conet; /* devices/conet.c */
struct shim_faults; /* core/faults.c */

/*
 * One forwarded host interrupt, measured (irq_forward, the one definition
 * `coop bench` and `coop analyze` share): from the host handler's first
 * instruction (tsc) to the guest vIRQ handler's first, which the guest
 * stamps in the passage (virq.handler_tsc).  The host sees the stamp at the
 * guest's next exit and closes the sample there (shim_irq_forward_close).
 */
struct shim_forward {
	struct shim_samples *samples; /* coop bench's, or NULL: not measuring */
	uint64_t tsc;                 /* host handler entry of the last forward */
	uint32_t source;              /* COOP_TRACE_IRQ_* of it */
	bool injected;                /* ... and it delivered a vIRQ: a sample is open */
};

/* Host signals as the guest's interrupts: the user backend's state (backend/user/signals.c). */
struct shim_host_irq {
	volatile uint32_t events;    /* SHIM_EV_* noted by signal handlers */
	int event_fd;                /* eventfd that wakes the host from ppoll */
	void *altstack;              /* the signal handlers' stack */
	unsigned int timers;         /* bit 0: tick_timer, bit 1: watchdog_timer exist */
	timer_t tick_timer;          /* the guest's tick */
	timer_t watchdog_timer;      /* the host's 100 ms look at the guest */
	uint64_t tick_ns;            /* the tick's period, 0: none */
	volatile bool oneshot_armed; /* a one-shot expiry is still to come (ABI 1.8) */
	uint64_t watchdog_ns;        /* see shim_config */
	bool stop_on_signals;        /* see shim_config */
	int stop_sig;                /* the signal that asked us to stop */
	struct shim_forward fwd;     /* the forward being measured */
};

/* One guest: its RAM, its switch, its state and its devices. */
struct shim_vm {
	/*
	 * The host's side while the guest runs: here, outside guest RAM, not
	 * in passage->host (the guest could overwrite that).  First, for its
	 * 64-byte alignment (xsave).
	 */
	struct coop_cpu_context host_ctx;
	void *ram;                   /* host address of guest RAM */
	struct shim_kmod *kmod;      /* the kmod backend's /dev/coop, or NULL (user backend) */
	uint64_t mem_size;           /* its size in bytes */
	struct coop_passage *passage; /* the first COOP_PASSAGE_SIZE bytes of ram */
	struct shim_elf_image image; /* the loaded guest kernel */
	uint32_t switch_mode;        /* COOP_SWITCH_* */
	coop_switch_fn switch_fn;    /* the host's way into the guest */
	bool hello_done;             /* the ABI handshake has happened */
	uint16_t guest_minor;        /* ... and the guest's ABI minor it said */
	enum shim_vm_state state;    /* RUNNING until the loop must stop */
	int exit_status;             /* coop's exit status once not RUNNING */
	char reason[SHIM_ERR_MAX];   /* why the guest was ended (sticky, first) */
	uint64_t to_guest_seq;       /* sequence number of host messages */
	struct shim_msg *queue_head; /* host->guest FIFO ... */
	struct shim_msg **queue_tail; /* ... and where the next one goes */
	uint32_t queued[COOP_DEV_COUNT]; /* ... how many are each device's (SHIM_QUEUE_MAX) */
	const struct shim_device *devices[COOP_DEV_COUNT]; /* its backends, by COOP_DEV_* id */
	struct shim_cocon *cocon;    /* the console */
	struct shim_cobd *cobd[COOP_BOOT_MAX_DEVS];   /* block units by number */
	struct shim_conet *conet[COOP_BOOT_MAX_DEVS]; /* network units by number */
	struct shim_watch watches[SHIM_MAX_WATCH];    /* fds that are host interrupts */
	struct shim_stats stats;     /* counters */
	uint64_t guard;              /* guest address of the stack guard page */
	struct shim_host_irq irq;    /* host interrupts (backend/user/signals.c) */
	bool forwarded;              /* the last switch out was a handler's, not an op */
	bool not_entered;            /* ... the switch never entered the guest (kmod: a
				      * signal was already waiting): no round trip */
	bool crashed;                /* ... and it was a guest fault: crash is valid */
	uint64_t progress_tsc;       /* last hypercall or vIRQ delivery */
	struct shim_crash crash;     /* valid when crashed */
	struct shim_symtab syms;     /* the guest kernel's function symbols */
	void *unwind_info;           /* its unwind table, registered with libunwind */
	char *report;                /* crash report (malloc'ed), printed at the end */
	struct shim_faults *faults;  /* the fault layer, or NULL (no --faults) */
	struct shim_faults_outcome *fault_outcome; /* its results once closed */
	uint64_t irq_due_ns[COOP_VEC_COUNT]; /* vIRQs the fault layer delayed */
	unsigned int irq_due_count;  /* ... how many of them (nonzero entries) */
	uint64_t fault_ticks;        /* ticks the fault layer has judged */
	uint64_t fault_wait_ns;      /* until the next held message or vIRQ is due (0: none) */
	uint64_t trace_tsc;          /* TSC of the last traced switch (coop:switch_*) */
	uint32_t trace_reason;       /* coop:switch_out's reason for the last switch out, if
				      * the backend knows better (kmod: RUN's log); 0: ask */
	struct shim_linux_vm lx;     /* a Linux guest (core/linux.c): lx.phys_base != 0 */
};

/* vm.c */
__attribute__((warn_unused_result)) int shim_vm_create(struct shim_vm *vm,
						       const struct shim_config *cfg, char *err,
						       size_t errlen);
void shim_vm_destroy(struct shim_vm *vm);

/* kill.c: ending a guest; the first reason sticks. */
/* It misbehaved (exit 3), unless it was the fault layer's doing. */
__attribute__((format(printf, 2, 3))) void shim_kill_guest(struct shim_vm *vm, const char *fmt,
							   ...);
/* It panicked (exit 3). */
__attribute__((format(printf, 2, 3))) void shim_panic_guest(struct shim_vm *vm, const char *fmt,
							    ...);
/* It is not one this coop can run (exit 2). */
__attribute__((format(printf, 2, 3))) void shim_refuse_guest(struct shim_vm *vm,
							     const char *fmt, ...);
/* coop was asked to stop by signal sig (exit 128 + sig). */
void shim_stop_guest(struct shim_vm *vm, int sig);

/* virq.c */
void shim_virq_raise(struct shim_vm *vm, unsigned int vector);
unsigned int shim_virq_deliverable(const struct coop_virq_state *v);
unsigned int shim_virq_highest(const struct coop_virq_state *v);
void shim_irq_forward_close(struct shim_vm *vm);

/* guest_mem.c: guest addresses the host may touch */
bool shim_guest_writable(const struct shim_vm *vm, uint64_t addr, uint64_t len);
bool shim_guest_text(const struct shim_vm *vm, uint64_t addr);
bool shim_guest_range(const struct shim_vm *vm, uint64_t addr, uint64_t len);
bool shim_guest_readable(const struct shim_vm *vm, uint64_t addr, uint64_t len);
void *shim_guest_ptr(const struct shim_vm *vm, uint64_t addr);
uint64_t shim_guest_msg_addr(const struct shim_vm *vm, uint64_t addr);

/* tsc.c */
static inline uint64_t shim_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return ((uint64_t)hi << 32) | lo;
}
uint64_t shim_tsc_khz(void);
uint64_t shim_now_ns(void);

/* symbols.c */
void shim_symbols_load(struct shim_symtab *t, const void *file, size_t len);
void shim_symbols_free(struct shim_symtab *t);
const char *shim_symbol(const struct shim_symtab *t, uint64_t addr, uint64_t *off);
void shim_symbols_register_unwind(struct shim_vm *vm, const void *file, size_t len);
void shim_symbols_unregister_unwind(struct shim_vm *vm);
void shim_host_symbol(uintptr_t ip, char *buf, size_t len);

/* watch.c */
__attribute__((warn_unused_result)) int shim_watch_fd(struct shim_vm *vm, int fd,
						      shim_ready_fn ready, void *arg);
void shim_watch_pause(struct shim_vm *vm, int fd, bool paused);
void shim_unwatch_fd(struct shim_vm *vm, int fd);
void shim_watch_serve(struct shim_vm *vm);
int shim_watch_pollfds(struct shim_vm *vm, struct pollfd *pfd, int max);

/* crash.c */
void shim_crash_end(struct shim_vm *vm);
bool shim_guest_hung(const struct shim_vm *vm); /* the watchdog: vIF off, no hypercall, too long */

/* backend/user/signals.c */
__attribute__((warn_unused_result)) int host_irq_init(struct shim_vm *vm, char *err,
						      size_t errlen);
void host_irq_fini(struct shim_vm *vm);
__attribute__((warn_unused_result)) int host_timer_set(struct shim_vm *vm, uint64_t period_ns,
							uint64_t oneshot_ns);
__attribute__((warn_unused_result)) int host_irq_watch_fd(int fd, bool on);

/* router.c */
/* A device backend, as the router sees it. */
struct shim_device {
	uint16_t id; /* COOP_DEV_*: its messages' device field (abi.h names it) */
	/* Set up its units from the configuration (devices/devices.c opens them in order). */
	int (*open)(struct shim_vm *vm, const struct shim_config *cfg, char *err, size_t errlen);
	/* Free what open made; also after a failed or partial open. */
	void (*close)(struct shim_vm *vm);
	/* A validated guest->host message for this device. */
	void (*from_guest)(struct shim_vm *vm, const struct coop_msg_hdr *hdr,
			   const uint8_t *payload);
	/* Optional: one of its host->guest messages reached the window. */
	void (*delivered)(struct shim_vm *vm, const struct coop_msg_hdr *hdr);
	/*
	 * Optional, for the fault layer: damage the data host->guest message
	 * hdr describes (e.g. the bytes a block read put in guest memory);
	 * false if it describes none.
	 */
	bool (*corrupt_data)(struct shim_vm *vm, const struct coop_msg_hdr *hdr,
			     const struct fault_fired *f);
	/*
	 * Optional, for coop:message: the block transfer guest->host message
	 * hdr asks for, read from its hdr->length payload bytes (anything the
	 * guest wrote: all zero when it is not a well-formed request).
	 */
	struct shim_msg_io (*io_of)(const struct coop_msg_hdr *hdr, const uint8_t *payload);
};
void shim_router_serve(struct shim_vm *vm);
__attribute__((warn_unused_result)) int shim_router_send(struct shim_vm *vm, uint16_t device,
							 uint16_t unit, uint16_t type,
							 const void *payload, uint32_t len);
__attribute__((warn_unused_result)) int shim_router_reply(struct shim_vm *vm, uint16_t device,
							  uint16_t unit, uint16_t type,
							  uint64_t seq, const void *payload,
							  uint32_t len,
							  const struct shim_msg_io *io);
void shim_router_deliver(struct shim_vm *vm);
uint64_t shim_router_release(struct shim_vm *vm);

/* faults.c */
__attribute__((warn_unused_result)) int shim_faults_open(struct shim_vm *vm,
							 const struct shim_config *cfg, char *err,
							 size_t errlen);
void shim_faults_close(struct shim_vm *vm, const char *log_preamble);
struct fault_engine *shim_faults_engine(struct shim_vm *vm);
void shim_faults_opened(struct shim_vm *vm, uint16_t device, uint16_t unit, uint64_t seq,
			enum fault_kind kind, bool detected);
void shim_faults_damaged(struct shim_vm *vm, uint16_t device, uint16_t unit, uint64_t seq,
			 uint64_t lo, uint64_t hi);
void shim_faults_bad_sector(struct shim_vm *vm, uint16_t device, uint16_t unit, uint64_t sector);
void shim_faults_failed(struct shim_vm *vm, uint16_t device, uint16_t unit, uint64_t seq);
void shim_faults_retry(struct shim_vm *vm, uint16_t device, uint16_t unit, uint64_t seq);
void shim_faults_served(struct shim_vm *vm, uint16_t device, uint16_t unit, uint64_t seq,
			int status);
void shim_faults_hold(struct shim_vm *vm, struct shim_msg *m, uint64_t delay_ns, uint32_t gap,
		      struct shim_msg_list *now);
void shim_faults_overtaken(struct shim_vm *vm, int dir);
void shim_faults_cancel_stale(struct shim_vm *vm, const struct coop_msg_hdr *hdr);
uint64_t shim_faults_release(struct shim_vm *vm, struct shim_msg_list *due);
void shim_faults_check(struct shim_vm *vm, uint64_t checked, uint64_t bad);
void shim_faults_injected(struct shim_vm *vm, const struct fault_event *ev,
			  const struct fault_fired *f, unsigned int n);
bool shim_faults_dispatching(struct shim_vm *vm, bool on);
bool shim_faults_absorb_kill(struct shim_vm *vm);
void shim_faults_refused(struct shim_vm *vm, const struct shim_msg *m);
struct fault_outcome shim_faults_total(const struct shim_faults_outcome *o, enum fault_kind k);
void shim_faults_summary(const struct shim_vm *vm, FILE *out);

/* fault_sites.c */
/*
 * The fault layer answers the router, as a qdisc answers its caller: what
 * to pass on goes into out, in order; the router passes it on.
 *   to_host:  true when the original goes to its device too (after out)
 *   to_guest: m is the layer's now; out holds what to queue (m, copies)
 */
bool shim_faults_to_host(struct shim_vm *vm, const struct coop_msg_hdr *h, const uint8_t *payload,
			struct shim_msg_list *out);
void shim_faults_to_guest(struct shim_vm *vm, struct shim_msg *m, const struct shim_device *dev,
			 struct shim_msg_list *out);
int shim_faults_io(struct shim_vm *vm, unsigned int unit, int op, uint64_t seq, bool *half);
void shim_faults_raise(struct shim_vm *vm, unsigned int vector);
uint64_t shim_faults_raise_due(struct shim_vm *vm);
void shim_faults_ticks(struct shim_vm *vm);
void shim_router_free(struct shim_vm *vm);

/* crc32c.c */
uint32_t shim_crc32c(uint32_t crc, const void *buf, size_t len);
uint32_t shim_msg_crc(const struct coop_msg_hdr *hdr, const void *payload);

/* A device for the guest's boot parameters (a device's open adds its units); -ENOSPC when full */
static inline __attribute__((warn_unused_result)) int
shim_boot_add_dev(struct shim_vm *vm, const struct coop_boot_dev *dev)
{
	struct coop_boot_params *b = &vm->passage->boot;

	if (b->ndevs >= COOP_BOOT_MAX_DEVS)
		return -ENOSPC;
	b->devs[b->ndevs++] = *dev;
	return 0;
}

/* devices/devices.c: every device backend, in the order they open (they close in reverse). */
extern const struct shim_device *const shim_devices[];
extern const unsigned int shim_ndevices;

/* devices/cocon.c */
bool shim_cocon_interactive(const struct shim_vm *vm);


#endif /* SHIM_SHIM_H */
