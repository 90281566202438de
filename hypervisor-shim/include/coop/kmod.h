/* SPDX-License-Identifier: MIT */
/*
 * coop/kmod.h - the user-space API of the kernel-module backend: the ioctls
 * of /dev/coop (hypervisor-shim/backend/kmod/module/) and their argument
 * structs.  Included by the module (Kbuild, __KERNEL__) and by `coop`
 * (backend/kmod/kmod.c) and its tests, so that both sides see one layout.
 *
 * Rules, as for abi.h: fixed-width types only, explicit reserved fields
 * instead of compiler padding, a _Static_assert on every struct size (the
 * ioctl numbers encode the sizes, so a mismatch is also -ENOTTY at run
 * time), and an API version the module reports (COOP_KMOD_VERSION) that
 * `coop` checks before anything else.  One open file descriptor of
 * /dev/coop holds at most one guest.
 *
 * Life of a guest:
 *   VERSION          what the module speaks and what this CPU gives it
 *   CREATE           pin the caller's guest-RAM mapping, build the guest's
 *                    page tables, GDT, IDT and TSS
 *   LOAD             segment permissions, stack guard, first rip and rsp
 *   RUN ...          run until the guest leaves an operation in the
 *                    passage, a signal or the time slice sends us back to
 *                    user space, or the guest takes a CPU exception
 *   GET_STATE        registers and counters (crash reports, tests)
 *   DESTROY / close  unpin and free everything
 *
 * Who may: opening /dev/coop needs CAP_SYS_RAWIO (checked at open, as for
 * /dev/mem; the node is also mode 0600).  The guest runs in ring 0, so
 * this is raw access to the machine, and CREATE hands the caller the
 * switch's kernel addresses, which its guest must call.  No other kernel
 * address reaches user space.
 *
 * API 1.1: COOP_KMOD_EXIT_SOFT_INT; CREATE refuses guest RAM that is not
 * anonymous private memory; GET_STATE's three address fields of 1.0 are
 * reserved (zero).
 *
 * API 1.2: Linux guests.  Their RAM is physical memory the host set aside
 * at boot (memmap=SIZE$ADDR) and gave the module (insmod coop.ko
 * phys_ram=SIZE@ADDR): guest-physical addresses are host-physical ones.
 *   GET_LAYOUT       that region, if any (and whether a guest holds it)
 *   CREATE           with COOP_KMOD_CREATE_LINUX: claim its first ram_size
 *                    bytes (ram_addr is ignored)
 *   mmap             the claimed RAM into the caller, offset 0, MAP_SHARED
 *                    (the monitor puts it at COOP_GUEST_BASE as usual)
 *   LOAD_LINUX       instead of LOAD, after the image and boot_params are
 *                    in place: the initial page tables, boot.kmod in the
 *                    passage, the first registers
 * The guest owns its CPU state from then on: CR3, CR4 (but PGE), GDT, IDT,
 * TR, segment selectors and bases are its own and survive every switch.
 *
 * API 1.3: RUN's switch log.  A caller that traces hands RUN a buffer
 * (run.log, run.log_cap records); RUN writes one struct coop_kmod_trip
 * per entry into the guest, in order - including the round trips it
 * served itself (FORWARD, NOP_IN_KERNEL, SET_SYSCALL, a host interrupt
 * replayed) that user space never sees otherwise - and returns
 * (INTERRUPTED) when the buffer is full, so that none is lost:
 * run.log_count == run.stats.entries.  log = 0 (as callers of 1.2 pass):
 * no log.
 */
#ifndef COOP_KMOD_H
#define COOP_KMOD_H

#ifndef __ASSEMBLER__
#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdint.h>
#endif
#include <linux/ioctl.h>
#endif

#define COOP_KMOD_DEVICE "/dev/coop"  /* a misc device, mode 0600 */
#define COOP_KMOD_API_MAJOR 1          /* incompatible ioctl changes */
#define COOP_KMOD_API_MINOR 3          /* additions (a struct's end, a new exit) */

/* Features of the host CPU and kernel the module found (version.features). */
#define COOP_KMOD_F_LA57 0x0001  /* 5-level paging: guest tables have 5 levels too */
#define COOP_KMOD_F_PCID 0x0002  /* CR4.PCIDE: host CR3 reloaded without a flush */
#define COOP_KMOD_F_SMEP 0x0004  /* CR4.SMEP (guest pages are supervisor pages) */
#define COOP_KMOD_F_SMAP 0x0008  /* CR4.SMAP */
#define COOP_KMOD_F_UMIP 0x0010  /* CR4.UMIP */
#define COOP_KMOD_F_XSAVE 0x0020 /* guest FPU state by xsave (else fxsave) */
#define COOP_KMOD_F_IBT 0x0040   /* kernel IBT: S_CET is cleared while the guest runs */
#define COOP_KMOD_F_PTI 0x0080   /* page-table isolation on the host */
#define COOP_KMOD_F_HYPERVISOR 0x0100 /* the host itself runs under a hypervisor */

/*
 * What RUN returned for (run.exit).  Anything but OPERATION leaves the
 * passage's operation as it was.
 */
#define COOP_KMOD_EXIT_OPERATION 1   /* the guest called the switch: serve passage.op */
#define COOP_KMOD_EXIT_INTERRUPTED 2 /* a signal is pending or the slice is over */
#define COOP_KMOD_EXIT_EXCEPTION 3   /* a guest CPU exception: run.vector, error, cr2 */
#define COOP_KMOD_EXIT_BAD_VIRQ 4    /* a vIRQ could not be delivered: run.cr2 = frame address */
/*
 * The guest executed `int $N` for a vector that is neither an exception
 * it raised nor a host interrupt (run.vector = N): it ends, as for an
 * exception.  Software interrupts are never passed to the host's handlers.
 */
#define COOP_KMOD_EXIT_SOFT_INT 5

/*
 * CREATE flags.  NOP_IN_KERNEL: RUN answers COOP_OP_NOP itself (result 0)
 * and switches straight back, so that a guest's null hypercalls time the
 * bare ring-0 round trip; user space never sees those operations.  For
 * benchmarks: the monitor's counters then miss them.
 */
#define COOP_KMOD_CREATE_NOP_IN_KERNEL 0x1
/* API 1.2: a Linux guest, in the module's physical region (see above). */
#define COOP_KMOD_CREATE_LINUX 0x2

/* The switch's pseudo-vector for "the guest called switch_to_host". */
#define COOP_KMOD_VEC_CALL 256

/* Segment permissions for LOAD (ELF p_flags values, so the loader passes them on). */
#define COOP_KMOD_SEG_X 0x1
#define COOP_KMOD_SEG_W 0x2
#define COOP_KMOD_SEG_R 0x4
#define COOP_KMOD_MAX_SEGS 16 /* as many as the loader allows */

/* The length of a time slice: RUN returns to user space at least this often. */
#define COOP_KMOD_SLICE_MS 10

#ifndef __ASSEMBLER__

#define COOP_KMOD_ASSERT_SIZE(type, size) \
	_Static_assert(sizeof(type) == (size), #type " has the size the API says")

/* COOP_KMOD_VERSION (read). */
struct coop_kmod_version {
	uint16_t api_major;   /* COOP_KMOD_API_MAJOR of the module */
	uint16_t api_minor;   /* COOP_KMOD_API_MINOR of the module */
	uint16_t abi_major;   /* the passage ABI it was built with (abi.h) */
	uint16_t abi_minor;
	uint32_t features;    /* COOP_KMOD_F_* */
	uint32_t paging_levels; /* 4 or 5, as the host's */
	uint64_t reserved[4];
};
COOP_KMOD_ASSERT_SIZE(struct coop_kmod_version, 48);

/*
 * COOP_KMOD_CREATE (read/write).  Guest RAM must be anonymous private
 * memory (mmap MAP_PRIVATE | MAP_ANONYMOUS): a file, shared memory or
 * hugetlbfs there is -EINVAL, a hole -EFAULT.
 */
struct coop_kmod_create {
	uint64_t ram_addr;       /* in: the caller's guest-RAM mapping; == COOP_GUEST_BASE */
	uint64_t ram_size;       /* in: bytes, a page multiple, COOP_MEM_MIN..COOP_MEM_MAX */
	uint32_t flags;          /* in: COOP_KMOD_CREATE_* */
	uint32_t reserved0;
	uint64_t switch_to_host; /* out: for passage hdr.switch_to_host */
	uint64_t return_trap;    /* out: a return address that ends the guest (boot frame) */
	uint64_t reserved[4];
};
COOP_KMOD_ASSERT_SIZE(struct coop_kmod_create, 72);

/* A loaded segment: [start, end) page-aligned guest addresses, COOP_KMOD_SEG_* */
struct coop_kmod_seg {
	uint64_t start;
	uint64_t end;
	uint32_t flags;
	uint32_t reserved;
};
COOP_KMOD_ASSERT_SIZE(struct coop_kmod_seg, 24);

/*
 * COOP_KMOD_LOAD (write), after user space put the kernel image into guest
 * RAM.  Guest RAM is mapped read-write, never executable; each segment
 * gets its own permissions (W^X enforced: a segment may not be both); the
 * guard page is left unmapped.  Once only: the first RUN resumes at rip.
 */
struct coop_kmod_load {
	uint64_t rip;       /* the guest's first instruction (its entry point) */
	uint64_t rsp;       /* its stack pointer then */
	uint64_t guard;     /* page-aligned guest address left unmapped, 0: none */
	uint32_t nsegs;     /* valid entries in segs */
	uint32_t reserved0;
	struct coop_kmod_seg segs[COOP_KMOD_MAX_SEGS];
	uint64_t reserved[4];
};
COOP_KMOD_ASSERT_SIZE(struct coop_kmod_load, 32 + 24 * COOP_KMOD_MAX_SEGS + 32);

/*
 * The guest's registers as the switch saves them: Linux's struct pt_regs
 * order, so that the hardware's interrupt frame (rip .. ss) and the error
 * code land in place on the switch's interrupt stack.  vector is the
 * reason for the last exit (exception or interrupt vector, or
 * COOP_KMOD_VEC_CALL); error the exception's error code (0 if none).
 */
struct coop_kmod_regs {
	uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
	uint64_t rax, rcx, rdx, rsi, rdi;
	uint64_t vector;
	uint64_t error;
	uint64_t rip, cs, rflags, rsp, ss;
};
COOP_KMOD_ASSERT_SIZE(struct coop_kmod_regs, 22 * 8);

/* Counters since CREATE (state.stats) or during one RUN (run.stats). */
struct coop_kmod_stats {
	uint64_t entries;        /* switches into the guest */
	uint64_t exits_call;     /* ... back because it called the switch */
	uint64_t irqs_forwarded; /* host interrupts that hit the guest, replayed in the host */
	uint64_t nmis_forwarded; /* NMIs among them (including ones that hit the switch) */
	uint64_t virqs_delivered; /* vIRQ frames pushed onto guest code (async delivery) */
	uint64_t exceptions;     /* guest CPU exceptions and software interrupts (each ends it) */
	uint64_t slices;         /* RUN calls that ended with the time slice */
	uint64_t nmis_in_switch; /* NMIs that hit the switch itself, replayed after it */
	uint64_t nops_in_kernel; /* COOP_OP_NOPs RUN answered itself (NOP_IN_KERNEL) */
	uint64_t forward_ops;    /* API 1.3: COOP_OP_FORWARDs RUN served (each one's replay is
				  * in irqs_forwarded too) */
	uint64_t reserved[2];
};
COOP_KMOD_ASSERT_SIZE(struct coop_kmod_stats, 96);

/*
 * One entry into the guest and what ended it (API 1.3, RUN's log).  The
 * words are those of the trace (coop/trace_values.h): reason is
 * coop:switch_out's, sources coop:irq_forward's.
 */
struct coop_kmod_trip {
	uint64_t tsc_in;     /* the switch into the guest */
	uint64_t tsc_out;    /* ... and back out of it */
	uint64_t tsc_served; /* RUN done with the exit (a replayed interrupt returned) */
	uint32_t reason;     /* an operation (COOP_OPS: FORWARD, NOP, ...) or FORWARD_INTERRUPT, GUEST_FAULT */
	uint32_t op_seq;     /* the passage's op.seq at the exit */
	uint32_t vif;        /* at the entry: the guest's virtual interrupt flag */
	uint32_t pending;    /* ... and its deliverable vIRQs */
	uint32_t virqs;      /* vIRQs delivered (a frame pushed) just before the entry */
	uint32_t virq_vector; /* ... the highest of them */
	uint32_t replays;    /* host interrupts replayed after the exit: 0, 1 or 2 */
	uint32_t nmi_in_switch; /* 1: the first of them was an NMI that hit the switch */
	uint32_t vector;     /* the last replayed: its vector */
	uint32_t source;     /* ... COOP_TRACE_IRQ_HOST or _NMI */
};
COOP_KMOD_ASSERT_SIZE(struct coop_kmod_trip, 64);

/* COOP_KMOD_RUN (read/write). */
struct coop_kmod_run {
	uint32_t exit;      /* out: COOP_KMOD_EXIT_* */
	uint32_t vector;    /* out: EXCEPTION, SOFT_INT: the vector */
	uint64_t error;     /* out: EXCEPTION: its error code */
	uint64_t cr2;       /* out: EXCEPTION #PF: the address; BAD_VIRQ: the frame's */
	uint64_t tsc_in;    /* out: TSC at the last switch into the guest */
	uint64_t tsc_out;   /* out: TSC at the last switch out of it */
	uint64_t log;       /* in (API 1.3): user address of log_cap struct coop_kmod_trip; 0: none */
	uint32_t log_cap;   /* in: records there */
	uint32_t log_count; /* out: records written (== stats.entries) */
	uint64_t reserved;
	struct coop_kmod_stats stats; /* out: what happened during this call */
};
COOP_KMOD_ASSERT_SIZE(struct coop_kmod_run, 64 + 96);

/* The longest log RUN fills before it returns. */
#define COOP_KMOD_LOG_MAX 128

/* COOP_KMOD_GET_STATE (read). */
struct coop_kmod_state {
	struct coop_kmod_regs regs;  /* the guest's registers (resumable) */
	struct coop_kmod_stats stats; /* totals since CREATE */
	uint64_t reserved0[3];       /* zero (API 1.0: kernel addresses, never used) */
	uint32_t loaded;             /* LOAD has happened */
	uint32_t table_pages;        /* page-table pages of the guest's address space */
	uint64_t reserved[4];
};
COOP_KMOD_ASSERT_SIZE(struct coop_kmod_state, 176 + 96 + 24 + 8 + 32);

/* COOP_KMOD_GET_LAYOUT (read, API 1.2): the physical region for Linux guests. */
struct coop_kmod_layout {
	uint64_t phys_start; /* host-physical address, 2 MiB aligned; 0: no region */
	uint64_t phys_size;  /* bytes; 0: no region (the module was loaded without phys_ram=) */
	uint32_t busy;       /* another guest holds the region now */
	uint32_t reserved0;
	uint64_t reserved[4];
};
COOP_KMOD_ASSERT_SIZE(struct coop_kmod_layout, 56);

/*
 * COOP_KMOD_LOAD_LINUX (write, API 1.2), once, on a CREATE_LINUX guest.
 * Physical addresses lie in the claimed RAM.  The module maps the image
 * [kernel_phys, kernel_phys + kernel_size) at kernel_va, all of guest RAM
 * in the guest's direct map (physical P at page_offset + P, as Linux's
 * __va) and the switcher window, with 2 MiB pages where it can; writes passage boot.kmod; and
 * sets rip = entry, rsi = boot_params, interrupts off, the module's GDT,
 * IDT and TSS (a fault before the guest has its own IDT is a crash report).
 */
struct coop_kmod_load_linux {
	uint64_t entry;       /* the guest's first instruction (COOP_NOTE_TYPE_LINUX_ENTRY) */
	uint64_t boot_params; /* physical address of Linux's struct boot_params */
	uint64_t kernel_phys; /* physical address of the image's first byte, 2 MiB aligned */
	uint64_t kernel_size; /* bytes of the image, up to its _end */
	uint64_t kernel_va;   /* the virtual address the image is linked at (its _text) */
	uint64_t page_offset; /* the guest's direct-map base (__PAGE_OFFSET for its paging levels) */
	uint64_t reserved[4];
};
COOP_KMOD_ASSERT_SIZE(struct coop_kmod_load_linux, 80);

#define COOP_KMOD_IOC 0xCF
#define COOP_KMOD_VERSION _IOR(COOP_KMOD_IOC, 0x00, struct coop_kmod_version)
#define COOP_KMOD_CREATE _IOWR(COOP_KMOD_IOC, 0x01, struct coop_kmod_create)
#define COOP_KMOD_LOAD _IOW(COOP_KMOD_IOC, 0x02, struct coop_kmod_load)
#define COOP_KMOD_RUN _IOWR(COOP_KMOD_IOC, 0x03, struct coop_kmod_run)
#define COOP_KMOD_GET_STATE _IOR(COOP_KMOD_IOC, 0x04, struct coop_kmod_state)
#define COOP_KMOD_DESTROY _IO(COOP_KMOD_IOC, 0x05)
#define COOP_KMOD_GET_LAYOUT _IOR(COOP_KMOD_IOC, 0x06, struct coop_kmod_layout)
#define COOP_KMOD_LOAD_LINUX _IOW(COOP_KMOD_IOC, 0x07, struct coop_kmod_load_linux)

#endif /* !__ASSEMBLER__ */
#endif /* COOP_KMOD_H */
