/* SPDX-License-Identifier: MIT */
/*
 * coop/abi.h - the one contract between the host (hypervisor-shim/) and the
 * guest kernel (guest/).  Tests and analysis read it too.  Nothing else is
 * shared: if the two sides need to agree on something, it lives here.
 *
 * Rules, learned from coLinux's mistakes and LTTng-UST's ABI:
 *  - fixed-width types only; no pointers, no `long`, no enums in structs;
 *  - every struct has a fixed size and explicit reserved fields instead of
 *    compiler padding, and a _Static_assert on its size and on every offset
 *    that assembly or another language uses (assembly gets its offsets from
 *    a generated header, never typed by hand);
 *  - a magic number and a MAJOR.MINOR version, checked twice: by the host's
 *    ELF loader (the guest's .note.coop) and by a handshake at boot
 *    (COOP_OP_HELLO).  MAJOR changes break; MINOR only adds at the end of a
 *    struct or in reserved space, and a host serves any guest with the same
 *    MAJOR and a MINOR not above its own.
 *
 * The header is also included from assembly and linker scripts
 * (__ASSEMBLER__ / COOP_LINKER_SCRIPT): only #defines are visible there.
 */
#ifndef COOP_ABI_H
#define COOP_ABI_H

#if defined(__ASSEMBLER__) || defined(COOP_LINKER_SCRIPT)
#define COOP_U64(x) x
#else
#define COOP_U64(x) x##ULL
#endif

/* ---- Versions and magic numbers ---------------------------------------- */

#define COOP_ABI_MAJOR 1
#define COOP_ABI_MINOR 8 /* 1.1: vIRQs, timer, tsc_khz; 1.2: cobd, conet, device table;
                           1.3: NOP; 1.4: end-to-end check and failure reports;
                           1.5: COOP_CON_EXEC; the host's context out of guest RAM;
                           1.6: Linux guests (boot.flags, boot.kmod, FORWARD);
                           1.7: SET_SYSCALL; 1.8: one-shot TIMER */
/* "COOPPASS" read as a little-endian u64: the first word of the passage. */
#define COOP_PASSAGE_MAGIC COOP_U64(0x53534150504f4f43)

/* The guest kernel ELF carries its ABI version in a note (name "coop"). */
#define COOP_NOTE_NAME "coop"
#define COOP_NOTE_TYPE_ABI 1 /* desc: struct coop_note_abi */
/*
 * 1.6: a Linux guest (guest/linux/) carries this note too; its desc is the
 * 64-bit virtual address of its entry, coop_startup_64 (a uint64_t), as
 * Xen's XEN_ELFNOTE_ENTRY.  Its presence is what makes an ELF a Linux
 * guest: the monitor then boots it with Linux's boot protocol (boot_params,
 * e820, setup_data) instead of COOP_KERNEL_BASE and the passage alone.
 */
#define COOP_NOTE_TYPE_LINUX_ENTRY 2

/*
 * The Linux guest's side of Linux's own boot protocol (1.6): its
 * boot_params say hdr.hardware_subarch = COOP_LINUX_SUBARCH (slot 1,
 * lguest's, unused since Linux 4.14), and a setup_data entry of type
 * COOP_LINUX_SETUP_TYPE carries struct coop_linux_setup: where the passage is.  Everything else
 * the guest learns from the passage.  (Linux 6.1's own types end at 9,
 * SETUP_RNG_SEED.)
 */
#define COOP_LINUX_SUBARCH 1
#define COOP_LINUX_SETUP_TYPE 10
/*
 * The interrupt stacks (1-based IST numbers, as in a gate) of the module's
 * NMI and #MC stubs, which a Linux guest puts in its IDT at vectors 2 and
 * 18 (boot.kmod.nmi_stub, mc_stub) and whose tops it writes into its own
 * TSS (ist[COOP_LINUX_IST_NMI - 1] = boot.kmod.ist_nmi_top, ...).  Linux
 * 6.1 uses IST 1..5 (#DF, NMI, #DB, #MC, #VC); these two are free.
 */
#define COOP_LINUX_IST_NMI 6
#define COOP_LINUX_IST_MC 7

/* ---- Guest memory layout ------------------------------------------------ */

/*
 * Guest RAM is one contiguous region.  Its first byte is guest-physical 0
 * and sits at the same virtual address on every backend: in the host
 * process for the user backend, in the guest's own page tables for kmod.
 * 32 TiB is in the lower half on 4- and 5-level paging, far from where
 * Linux puts user mappings, and outside the low 4 GiB a real-mode-minded
 * bug would hit.
 */
#define COOP_GUEST_BASE COOP_U64(0x0000200000000000)
#define COOP_PAGE_SIZE 4096
/* The passage occupies the first 64 KiB of guest RAM. */
#define COOP_PASSAGE_SIZE 0x10000
/* The guest kernel is linked here; nothing may be loaded below it. */
#define COOP_KERNEL_OFFSET 0x100000
#define COOP_KERNEL_BASE (COOP_GUEST_BASE + COOP_KERNEL_OFFSET)
/* Guest RAM size limits (the host may allow less: its own RAM). */
#define COOP_MEM_MIN (COOP_U64(4) << 20)
#define COOP_MEM_MAX (COOP_U64(64) << 30)
/* Boot stack the host reserves at the top of guest RAM, and its guard. */
#define COOP_BOOT_STACK_SIZE 0x10000
#define COOP_STACK_GUARD_SIZE COOP_PAGE_SIZE

/* ---- Operations: what the guest asks for when it switches out ----------- */

/*
 * The one table of operations: X(NAME, number, word), where COOP_OP_NAME
 * is the number and word names it in traces and the run report.
 */
#define COOP_OPS(X)                                                                  \
	X(NONE, 0, "INVALID")        /* nothing: a bug in the guest */                   \
	X(HELLO, 1, "HELLO")         /* boot handshake: params.hello */                  \
	X(IDLE, 2, "IDLE")           /* nothing to run: wait for an event (HALT) */      \
	X(MESSAGE, 3, "MESSAGE")     /* serve the to_host message window */              \
	X(TERMINATE, 4, "TERMINATE") /* power off: params.terminate.status */            \
	X(PANIC, 5, "PANIC")         /* guest panic: params.panic */                     \
	X(TIMER, 6, "TIMER")         /* 1.1: program the tick (1.8: or one expiry): params.timer */  \
	X(IRQ_ENABLE, 7, "IRQ_ENABLE") /* 1.1: vIF set again with vIRQs pending */       \
	X(NOP, 8, "NOP")             /* 1.3: do nothing: a bare world-switch round trip */ \
	X(FORWARD, 9, "FORWARD")     /* 1.6: a host interrupt hit the guest's own IDT: \
	                                params.forward; served in the kmod module */     \
	X(SET_SYSCALL, 10, "SET_SYSCALL") /* 1.7: the guest's LSTAR, for its user     \
	                                mode: params.set_syscall; kmod module */

/* (COOP_OP_NAME and COOP_OP_COUNT: in the C part below.) */

/* ---- Virtual interrupts (1.1) ------------------------------------------- */

/*
 * Vectors the host raises.  Priority is the vector number: the highest
 * pending vector is delivered first (as the local APIC does).  0..31 are
 * reserved, as exceptions are on x86.
 */
#define COOP_VEC_TIMER 32 /* the tick programmed with COOP_OP_TIMER */
#define COOP_VEC_COUNT 256
/* Each device's messages in the to_guest window raise its vector (COOP_DEVICES). */

/* ---- World-switch modes (user backend) ---------------------------------- */

/* callee-saved GPRs, rsp, MXCSR, x87 control word: a C-call coroutine */
#define COOP_SWITCH_DEFAULT 0
/* + every GPR, rflags, FS/GS base and the xsave area: what ring 0 must do */
#define COOP_SWITCH_FULL 1

/* ---- Messages ----------------------------------------------------------- */

#define COOP_EP_HOST 0  /* endpoint: the monitor and its device backends */
#define COOP_EP_GUEST 1 /* endpoint: the guest kernel */

/*
 * The one table of devices: X(NAME, number, word, vector), where
 * COOP_DEV_NAME is the messages' device field, word its name (--disk
 * cobd0=..., traces, reports, fault plans) and COOP_VEC_NAME the vIRQ its
 * messages to the guest raise (the monitor's reports raise none).
 */
#define COOP_DEVICES(X)                                        \
	X(MONITOR, 0, "monitor", 0) /* the monitor's own reports */ \
	X(COCON, 1, "cocon", 33)    /* console */                   \
	X(COBD, 2, "cobd", 34)      /* block device */              \
	X(CONET, 3, "conet", 35)    /* network device */

/* (COOP_DEV_NAME, COOP_DEV_COUNT, COOP_VEC_NAME, the words: in the C part below.) */

/* Header flags. */
#define COOP_MSG_F_NOCRC 0x0001 /* crc32c is not set; do not check it */

/* cocon message types */
#define COOP_COCON_WRITE 1 /* guest->host: program output (payload: bytes) */
#define COOP_COCON_LOG 2   /* guest->host: kernel log line (payload: bytes) */
#define COOP_COCON_INPUT 3 /* host->guest: keyboard/terminal bytes */
#define COOP_COCON_EOF 4   /* host->guest: end of console input */

/* Boot flags (boot.flags, 1.6). */
#define COOP_BOOT_F_LINUX 0x1      /* a Linux guest: boot.kmod is valid */
#define COOP_BOOT_F_PHYS_ADDRS 0x2 /* guest addresses in messages are guest-physical */
/* Switcher-window PMD entries in boot.kmod (each maps 2 MiB). */
#define COOP_LINUX_MAX_PMDS 4

/* Console flags in the boot parameters. */
#define COOP_CON_INTERACTIVE 0x1 /* a person types: prompt, echo, edit */
/*
 * The input is a script (coop run --exec, 1.5): a failure in it must not
 * hide behind later commands, so the shell ends with the first failing
 * command's status unless the script powers off itself.
 */
#define COOP_CON_EXEC 0x2

/* Monitor messages (device COOP_DEV_MONITOR, 1.4) */
#define COOP_MON_CHECK 1  /* guest->host: struct coop_mon_check */
#define COOP_MON_FAILED 2 /* guest->host: struct coop_mon_failed */
#define COOP_MON_BAD 3    /* guest->host: struct coop_mon_bad */

/* cobd message types (1.2): payload struct coop_cobd_request / _reply */
#define COOP_COBD_REQUEST 1 /* guest->host; hdr.seq is the request id */
#define COOP_COBD_REPLY 2   /* host->guest; hdr.seq is the request's id */
/*
 * The one table of cobd operations: X(NAME, number, word), where
 * COOP_COBD_NAME is request.op and word names it in traces (coop:message).
 */
#define COOP_COBD_OPS(X)                                                   \
	X(READ, 1, "READ")   /* device bytes -> guest memory at addr */      \
	X(WRITE, 2, "WRITE") /* guest memory at addr -> device bytes */      \
	X(FLUSH, 3, "FLUSH") /* make written data durable (fdatasync) */     \
	X(INFO, 4, "INFO")   /* reply.size and reply.flags */
/* (COOP_COBD_NAME: in the C part below.) */
#define COOP_COBD_SECTOR 512           /* offsets and lengths are multiples */
#define COOP_COBD_MAX_IO (1u << 20)    /* bytes one request may move */
#define COOP_COBD_F_RO 0x1             /* info/boot flags: read-only unit */
#define COOP_COBD_F_NODATACRC 0x2      /* request flags: no data_crc32c */

/* conet message types (1.2): payload is one Ethernet frame, no FCS */
#define COOP_CONET_FRAME 1     /* either direction */
#define COOP_CONET_MTU 1500
#define COOP_CONET_FRAME_MAX 1514 /* 14-byte header + MTU */

/* Devices the host gives the guest, in the boot parameters (1.2). */
#define COOP_BOOT_MAX_DEVS 8

#define COOP_CMDLINE_MAX 512
#define COOP_MSG_ALIGN 8
#define COOP_MSG_MAX_PAYLOAD 8192
#define COOP_XSAVE_AREA_SIZE 4096

/* ---- Offsets in the passage (absolute, from its first byte) ------------- */

#define COOP_PASSAGE_OFF_HDR 0x0000
#define COOP_PASSAGE_OFF_BOOT 0x0040
#define COOP_PASSAGE_OFF_OP 0x0440
#define COOP_PASSAGE_OFF_VIRQ 0x0680
#define COOP_PASSAGE_OFF_HOST 0x1000
#define COOP_PASSAGE_OFF_GUEST 0x2200
#define COOP_PASSAGE_OFF_TO_HOST 0x4000
#define COOP_PASSAGE_OFF_TO_GUEST 0xa000
#define COOP_MSG_WINDOW_SIZE 0x6000

#if !defined(__ASSEMBLER__) && !defined(COOP_LINKER_SCRIPT)

#ifdef __KERNEL__ /* the kmod backend's module: no libc headers there */
#include <linux/stddef.h>
#include <linux/types.h>
#else
#include <stddef.h>
#include <stdint.h>
#endif

/* The tables above as C constants (operations, devices, vectors, cobd operations) and words. */
#define COOP_OP_ENUM_(name, n, word) COOP_OP_##name = n,
enum { COOP_OPS(COOP_OP_ENUM_) COOP_OP_COUNT };
#undef COOP_OP_ENUM_
#define COOP_DEV_ENUM_(name, n, word, vec) COOP_DEV_##name = n,
enum { COOP_DEVICES(COOP_DEV_ENUM_) COOP_DEV_COUNT };
#undef COOP_DEV_ENUM_
#define COOP_VEC_ENUM_(name, n, word, vec) COOP_VEC_##name = vec,
enum { COOP_DEVICES(COOP_VEC_ENUM_) };
#undef COOP_VEC_ENUM_
#define COOP_COBD_ENUM_(name, n, word) COOP_COBD_##name = n,
enum { COOP_COBD_OPS(COOP_COBD_ENUM_) };
#undef COOP_COBD_ENUM_

/* The word of an operation or a device number; NULL if there is none. */
static inline const char *coop_op_word(uint32_t code)
{
#define COOP_OP_CASE_(name, n, word) case n: return word;
	switch (code) { COOP_OPS(COOP_OP_CASE_) }
#undef COOP_OP_CASE_
	return (const char *)0;
}

static inline const char *coop_dev_word(uint32_t device)
{
#define COOP_DEV_CASE_(name, n, word, vec) case n: return word;
	switch (device) { COOP_DEVICES(COOP_DEV_CASE_) }
#undef COOP_DEV_CASE_
	return (const char *)0;
}

/* The vIRQ a device's messages raise (0: none), and the device of a vector (-1: none). */
static inline unsigned int coop_dev_vector(uint32_t device)
{
#define COOP_DEV_CASE_(name, n, word, vec) case n: return vec;
	switch (device) { COOP_DEVICES(COOP_DEV_CASE_) }
#undef COOP_DEV_CASE_
	return 0;
}

static inline int coop_vector_dev(uint32_t vector)
{
#define COOP_DEV_CASE_(name, n, word, vec) if (vec && vector == vec) return n;
	COOP_DEVICES(COOP_DEV_CASE_)
#undef COOP_DEV_CASE_
	return -1;
}

#define COOP_ABI_ASSERT_SIZE(type, size) \
	_Static_assert(sizeof(type) == (size), #type " has the size the ABI says")
#define COOP_ABI_ASSERT_OFF(type, field, off) \
	_Static_assert(offsetof(type, field) == (off), #type "." #field " is where the ABI says")

/* The ELF note's payload (.note.coop, type COOP_NOTE_TYPE_ABI). */
struct coop_note_abi {
	uint32_t major; /* COOP_ABI_MAJOR the guest was built with */
	uint32_t minor; /* COOP_ABI_MINOR the guest was built with */
};
COOP_ABI_ASSERT_SIZE(struct coop_note_abi, 8);

/* The payload of the Linux guest's setup_data entry (COOP_LINUX_SETUP_TYPE). */
struct coop_linux_setup {
	uint64_t passage;  /* physical address of the passage */
	uint32_t major;    /* COOP_ABI_MAJOR of the host */
	uint32_t minor;
};
COOP_ABI_ASSERT_SIZE(struct coop_linux_setup, 16);

/*
 * The saved CPU state of one side of the world switch.  The user backend's
 * switch (hypervisor-shim/arch/x86_64/switch.S) saves the current side here
 * and loads the other side from its copy.  Every offset it uses comes from
 * the generated asm-offsets header.
 *
 * Default mode touches rsp, the callee-saved GPRs, mxcsr and fpu_cw.  Full
 * mode touches every field but the sys block.  There is no rip: a switch is
 * a call, and the side that is resumed returns from its own switch call
 * (the address is on its stack at rsp).
 */
struct coop_cpu_context {
	uint64_t rsp; /* stack pointer; [rsp] is the address to resume at */
	uint64_t rbx; /* callee-saved GPRs (both modes) */
	uint64_t rbp;
	uint64_t r12;
	uint64_t r13;
	uint64_t r14;
	uint64_t r15;
	uint64_t rax; /* caller-saved GPRs (full mode only) */
	uint64_t rcx;
	uint64_t rdx;
	uint64_t rsi;
	uint64_t rdi;
	uint64_t r8;
	uint64_t r9;
	uint64_t r10;
	uint64_t r11;
	uint64_t rflags;  /* full mode: arithmetic and control flags */
	uint64_t fs_base; /* full mode: rdfsbase/wrfsbase */
	uint64_t gs_base; /* full mode: rdgsbase/wrgsbase */
	uint32_t mxcsr;   /* default mode: SSE control/status */
	uint16_t fpu_cw;  /* default mode: x87 control word */
	uint16_t reserved0;
	uint64_t xsave_mask; /* full mode: XCR0 components saved (host sets) */
	uint64_t reserved_regs[3]; /* room for more registers */
	/*
	 * System state of a ring-0 switch (kmod backend).  Zero and unused on
	 * the user backend; reserved here so that kmod is a MINOR change.
	 */
	struct coop_sys_state {
		uint64_t cr0;       /* paging, protection, FPU control */
		uint64_t cr2;       /* last page-fault address */
		uint64_t cr3;       /* page-table root (+ PCID) */
		uint64_t cr4;       /* LA57, SMEP, SMAP, PCIDE, OSXSAVE, ... */
		uint64_t efer;      /* long mode, NX, syscall enable */
		uint64_t gdt_base;  /* GDTR */
		uint64_t idt_base;  /* IDTR */
		uint16_t gdt_limit; /* GDTR limit */
		uint16_t idt_limit; /* IDTR limit */
		uint16_t tr;        /* task register selector */
		uint16_t ldt;       /* LDT selector (0: none) */
		uint16_t cs, ss, ds, es; /* segment selectors */
		uint64_t kernel_gs_base; /* IA32_KERNEL_GS_BASE */
		uint64_t reserved[6];
	} sys;
	uint8_t reserved1[0x200 - 0xc0 - 0x80]; /* room for MINOR growth */
	/* xsave area, standard (non-compacted) format; 64-byte aligned. */
	uint8_t xsave[COOP_XSAVE_AREA_SIZE] __attribute__((aligned(64)));
};
COOP_ABI_ASSERT_SIZE(struct coop_sys_state, 0x80);
COOP_ABI_ASSERT_OFF(struct coop_cpu_context, rsp, 0x00);
COOP_ABI_ASSERT_OFF(struct coop_cpu_context, rbx, 0x08);
COOP_ABI_ASSERT_OFF(struct coop_cpu_context, r15, 0x30);
COOP_ABI_ASSERT_OFF(struct coop_cpu_context, rax, 0x38);
COOP_ABI_ASSERT_OFF(struct coop_cpu_context, r11, 0x78);
COOP_ABI_ASSERT_OFF(struct coop_cpu_context, rflags, 0x80);
COOP_ABI_ASSERT_OFF(struct coop_cpu_context, fs_base, 0x88);
COOP_ABI_ASSERT_OFF(struct coop_cpu_context, gs_base, 0x90);
COOP_ABI_ASSERT_OFF(struct coop_cpu_context, mxcsr, 0x98);
COOP_ABI_ASSERT_OFF(struct coop_cpu_context, fpu_cw, 0x9c);
COOP_ABI_ASSERT_OFF(struct coop_cpu_context, xsave_mask, 0xa0);
COOP_ABI_ASSERT_OFF(struct coop_cpu_context, sys, 0xc0);
COOP_ABI_ASSERT_OFF(struct coop_cpu_context, xsave, 0x200);
COOP_ABI_ASSERT_SIZE(struct coop_cpu_context, 0x200 + COOP_XSAVE_AREA_SIZE);

/* First 64 bytes of the passage: what it is, and how to switch. */
struct coop_passage_header {
	uint64_t magic;          /* COOP_PASSAGE_MAGIC, written by the host */
	uint16_t host_major;     /* COOP_ABI_MAJOR of the host */
	uint16_t host_minor;     /* COOP_ABI_MINOR of the host */
	uint16_t guest_major;    /* the guest's, written at COOP_OP_HELLO */
	uint16_t guest_minor;
	uint32_t size;           /* sizeof(struct coop_passage) as the host sees it */
	uint32_t switch_mode;    /* COOP_SWITCH_* the host chose */
	/*
	 * Address of the routine the guest calls to switch to the host:
	 *   void switch_to_host(struct coop_cpu_context *save,   (&guest)
	 *                       struct coop_cpu_context *load);  (&host)
	 * It returns when the host switches back.  The System V calling
	 * convention holds across it (caller-saved registers are clobbered).
	 * Hosts since 1.5 keep their context outside guest RAM and ignore
	 * `load` (passage->host stays unused): pass &host all the same.
	 */
	uint64_t switch_to_host;
	uint64_t reserved[4];
};
COOP_ABI_ASSERT_SIZE(struct coop_passage_header, 0x40);

/* Boot parameters: written by the host before the first switch. */
struct coop_boot_params {
	uint64_t mem_base;     /* guest RAM's first byte (== COOP_GUEST_BASE) */
	uint64_t mem_size;     /* bytes of guest RAM */
	uint64_t kernel_start; /* lowest byte of the loaded kernel image */
	uint64_t kernel_end;   /* one past its highest byte (incl. bss) */
	uint64_t heap_start;   /* free RAM for the guest's allocator ... */
	uint64_t heap_end;     /* ... up to here (the stack guard follows) */
	uint64_t stack_base;   /* lowest byte of the boot stack */
	uint64_t stack_top;    /* one past its highest byte */
	uint32_t console_flags; /* COOP_CON_* */
	uint32_t flags;        /* 1.6: COOP_BOOT_F_* (0 before) */
	uint64_t tsc_khz;      /* 1.1: TSC ticks per millisecond, calibrated by the host */
	uint32_t ndevs;        /* 1.2: valid entries in devs[] */
	uint32_t reserved2;
	uint64_t reserved[5];
	char cmdline[COOP_CMDLINE_MAX]; /* NUL-terminated kernel command line */
	struct coop_boot_dev {
		uint16_t device; /* COOP_DEV_COBD or COOP_DEV_CONET */
		uint16_t unit;   /* cobdN / conetN: the unit in messages */
		uint32_t flags;  /* cobd: COOP_COBD_F_RO */
		uint64_t size;   /* cobd: bytes (a multiple of COOP_COBD_SECTOR) */
		uint8_t mac[6];  /* conet: the guest's MAC address */
		uint8_t reserved0[2];
		uint64_t reserved;
	} devs[COOP_BOOT_MAX_DEVS]; /* 1.2 */
	/*
	 * 1.6, with COOP_BOOT_F_LINUX: what a Linux guest needs of the kmod
	 * module, written by the module (LOAD_LINUX), so that no kernel
	 * address passes through user space.  Guest-physical addresses are
	 * host-physical ones for a Linux guest.
	 */
	struct coop_boot_kmod {
		uint64_t phys_base;    /* physical address of guest RAM's first byte (the passage) */
		uint64_t wallclock_ns; /* the host's CLOCK_REALTIME when the guest was loaded */
		/*
		 * The switcher window: the module's code and this guest's
		 * switch state, at the same virtual addresses in both worlds.
		 * The guest keeps switcher_pmds PMD entries in every address
		 * space: entry i maps [switcher_va + i * 2 MiB, + 2 MiB) and
		 * its value is switcher_pmd[i] (a page table of the module's).
		 */
		uint64_t switcher_va;   /* 2 MiB aligned */
		uint32_t switcher_pmds; /* 1..COOP_LINUX_MAX_PMDS */
		uint32_t reserved0;
		uint64_t switcher_pmd[COOP_LINUX_MAX_PMDS];
		uint64_t nmi_stub;    /* IDT vector 2: this address, IST COOP_LINUX_IST_NMI */
		uint64_t mc_stub;     /* IDT vector 18: this address, IST COOP_LINUX_IST_MC */
		uint64_t ist_nmi_top; /* TSS ist[COOP_LINUX_IST_NMI - 1] */
		uint64_t ist_mc_top;  /* TSS ist[COOP_LINUX_IST_MC - 1] */
		uint64_t image_phys;  /* physical address of the image's first byte (_text) */
		uint64_t reserved[3];
	} kmod; /* not `linux`: GNU C predefines that word */
};
COOP_ABI_ASSERT_OFF(struct coop_boot_params, console_flags, 0x40);
COOP_ABI_ASSERT_OFF(struct coop_boot_params, flags, 0x44);
COOP_ABI_ASSERT_OFF(struct coop_boot_params, ndevs, 0x50);
COOP_ABI_ASSERT_OFF(struct coop_boot_params, cmdline, 0x80);
COOP_ABI_ASSERT_SIZE(struct coop_boot_dev, 32);
COOP_ABI_ASSERT_OFF(struct coop_boot_params, devs, 0x80 + COOP_CMDLINE_MAX);
COOP_ABI_ASSERT_SIZE(struct coop_boot_kmod, 128);
COOP_ABI_ASSERT_OFF(struct coop_boot_params, kmod, 0x380);
COOP_ABI_ASSERT_SIZE(struct coop_boot_params, 0x400);

/* Typed parameters of each operation. */
struct coop_op_hello {
	uint16_t major; /* the guest's COOP_ABI_MAJOR */
	uint16_t minor; /* the guest's COOP_ABI_MINOR */
	uint32_t reserved;
};
struct coop_op_idle {
	uint64_t timeout_ns; /* 0: until the next event */
};
struct coop_op_message {
	uint32_t count; /* messages in the to_host window (== window.count) */
	uint32_t reserved;
};
struct coop_op_terminate {
	int32_t status; /* power-off status, 0..255: coop's exit status */
	uint32_t reserved;
};
struct coop_op_timer {
	uint64_t period_ns; /* tick period; 0 stops the tick */
	/*
	 * 1.8: with period_ns 0, one expiry this many ns from now instead
	 * (COOP_TIMER_ONESHOT_MIN..MAX; it replaces whatever was armed; 0:
	 * none).  Read only from a guest that said 1.8 or later at HELLO.
	 */
	uint64_t oneshot_ns;
};
#define COOP_TIMER_ONESHOT_MIN 1000ull             /* 1 us */
#define COOP_TIMER_ONESHOT_MAX 10000000000ull      /* 10 s */
struct coop_op_forward {
	uint32_t vector;   /* the host vector the guest's IDT received (32..255) */
	uint32_t reserved;
};
/*
 * The entry of the guest's user-mode syscall (Linux: entry_SYSCALL_64).
 * LSTAR is the host's MSR: the module loads the guest's value right
 * before each entry and puts the host's back right after each exit,
 * interrupts off, so no host system call ever sees it.  0: none.
 * 1.8: and of SYSCALL from 32-bit code, CSTAR (Linux without
 * IA32_EMULATION: ignore_sysret; 0: lstar's), loaded the same way; while
 * the guest runs, SYSENTER_CS is 0 too, so SYSENTER faults (#GP) in the
 * guest.  No user program of the guest ever enters the host's kernel.
 */
struct coop_op_set_syscall {
	uint64_t lstar;
	uint64_t cstar; /* 1.8; read only from a guest that said 1.8 at HELLO */
};
struct coop_op_panic {
	uint32_t line;     /* source line of the panic() call */
	char file[124];    /* its source file, NUL-terminated */
	char message[384]; /* what went wrong, NUL-terminated */
};

/*
 * The operation the guest left when it switched out.  The guest writes
 * code and params, the host serves them and writes result (0 or -errno)
 * before it switches back.
 */
struct coop_op {
	uint32_t code;  /* COOP_OP_* */
	int32_t result; /* host's answer */
	union {
		struct coop_op_hello hello;
		struct coop_op_idle idle;
		struct coop_op_message message;
		struct coop_op_terminate terminate;
		struct coop_op_panic panic;
		struct coop_op_timer timer;
		struct coop_op_forward forward;
		struct coop_op_set_syscall set_syscall;
		uint8_t raw[512];
	} params;
	uint64_t seq; /* incremented by the guest on every operation */
};
COOP_ABI_ASSERT_SIZE(struct coop_op_panic, 512);
COOP_ABI_ASSERT_OFF(struct coop_op, params, 8);
COOP_ABI_ASSERT_SIZE(struct coop_op, 528);

/*
 * The virtual interrupt controller, shared by both sides.
 *
 * The host raises a vector by setting its bit in pending.  The guest takes
 * it only while vif is 1 and its masked bit is 0: it clears the pending bit
 * with one locked instruction, sets in_service, runs the handler and clears
 * in_service again (end of interrupt).  Two ways in:
 *  - asynchronously: the host interrupted guest code with vif = 1 (a host
 *    interrupt was forwarded).  The host pushes a struct coop_irq_frame on
 *    the interrupted stack, clears vif and resumes the guest at entry with
 *    %rdi = the frame.  The guest returns to the interrupted code by
 *    restoring the frame (and setting vif again);
 *  - synchronously: the guest finds deliverable vectors when it sets vif
 *    again, or after a hypercall.  It then issues COOP_OP_IRQ_ENABLE (the
 *    host sees every delivery) and runs the handlers itself.
 * Setting or clearing vif is a plain store: no switch unless vectors wait.
 *
 * The host writes the to_guest window only while the guest cannot be
 * reading it: when the guest left an operation, or was interrupted with
 * vif = 1 (the guest touches its windows with vif = 0).  COOP_OP_IDLE
 * returns at once while a vector is pending and not masked.  A vIRQ whose
 * frame would not fit in writable guest memory below the interrupted rsp
 * (the boot stack's guard page) ends the guest as a stack overflow.
 */
struct coop_virq_state {
	uint32_t vif;         /* 1: the guest accepts virtual interrupts */
	uint32_t reserved0;
	uint64_t pending[4];  /* set by the host, cleared by the guest */
	uint64_t masked[4];   /* set by the guest: do not deliver */
	uint64_t entry;       /* 1.1 guest: async entry, void entry(frame); 0: none */
	/* ---- 1.1 ---- */
	uint64_t in_service[4]; /* guest: vectors whose handler runs (EOI clears) */
	uint64_t ticks;         /* host: timer expirations since COOP_OP_TIMER */
	uint64_t forward_tsc;   /* host: TSC when the latest forwarded interrupt hit */
	uint64_t handler_tsc;   /* guest: TSC at the start of the latest vIRQ handler */
	uint64_t delivered;     /* guest: vIRQ handlers run */
	uint64_t reserved[4];
};
COOP_ABI_ASSERT_OFF(struct coop_virq_state, entry, 72);
COOP_ABI_ASSERT_OFF(struct coop_virq_state, in_service, 80);
COOP_ABI_ASSERT_SIZE(struct coop_virq_state, 176);

/*
 * The one rule of vIRQ priority, for the host, the kmod backend and the
 * guest alike: of the vectors pending and not masked, the highest goes
 * first (priority = vector number, as the local APIC does); -1: none.
 */
static inline int coop_virq_pick(const uint64_t pending[4], const uint64_t masked[4])
{
	for (int w = 3; w >= 0; w--) {
		uint64_t ready = pending[w] & ~masked[w];

		if (ready)
			return w * 64 + 63 - __builtin_clzll(ready);
	}
	return -1;
}

/*
 * What the host pushes on the guest stack to deliver a vIRQ into
 * interrupted code, lowest address first.  It ends right below the
 * interrupted rsp, so that popping r15 .. rax, then rflags (popfq), then
 * rip (ret) leaves rsp exactly where it was.  The guest has no red zone
 * (-mno-red-zone), so nothing lives below rsp.
 */
struct coop_irq_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8; /* interrupted GPRs ... */
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;    /* ... in pop order */
	uint64_t rflags; /* interrupted flags */
	uint64_t rip;    /* where to resume; at interrupted rsp - 8 */
};
COOP_ABI_ASSERT_OFF(struct coop_irq_frame, rflags, 120);
COOP_ABI_ASSERT_OFF(struct coop_irq_frame, rip, 128);
COOP_ABI_ASSERT_SIZE(struct coop_irq_frame, 136);

/*
 * A message, as it sits in a window: this header, then `length` payload
 * bytes, then padding to COOP_MSG_ALIGN.  crc32c covers the header (with
 * crc32c = 0) and the payload.  Unlike coLinux there is no priority field
 * nobody reads, and nothing is dropped when a window is full: the sender
 * waits for the other side to drain it.
 */
struct coop_msg_hdr {
	uint16_t src;    /* COOP_EP_* of the sender */
	uint16_t dst;    /* COOP_EP_* of the receiver */
	uint16_t device; /* COOP_DEV_* */
	uint16_t unit;   /* device unit (cobd0, conet1, ...) */
	uint16_t type;   /* device-specific message type */
	uint16_t flags;  /* COOP_MSG_F_* */
	uint32_t length; /* payload bytes, <= COOP_MSG_MAX_PAYLOAD */
	uint64_t seq;    /* sender's sequence number / request id */
	uint32_t crc32c; /* CRC32C of header (this field 0) and payload */
	uint32_t reserved;
};
COOP_ABI_ASSERT_SIZE(struct coop_msg_hdr, 32);

/*
 * cobd (1.2): a block request names a guest buffer; the host moves the
 * bytes between the image and guest memory directly (no copy through a
 * window), after checking offset, length and buffer against the unit and
 * guest RAM.  data_crc32c covers the data (write: the guest computes it;
 * read: the host does), so that corruption on the way is detected end to
 * end.  A request may be sent again with the same id after a timeout;
 * reads and writes are idempotent, and the guest ignores a reply whose id
 * it no longer waits for.
 */
struct coop_cobd_request {
	uint32_t op;          /* COOP_COBD_READ/WRITE/FLUSH/INFO */
	uint32_t flags;       /* COOP_COBD_F_NODATACRC */
	uint64_t offset;      /* byte offset in the unit, sector-aligned */
	uint32_t length;      /* bytes, sector multiple, <= COOP_COBD_MAX_IO */
	uint32_t data_crc32c; /* write: CRC32C of the data at addr */
	uint64_t addr;        /* guest address of the buffer */
};
COOP_ABI_ASSERT_SIZE(struct coop_cobd_request, 32);

struct coop_cobd_reply {
	uint32_t op;          /* the request's op */
	int32_t status;       /* 0 or -errno (-EIO, -EROFS, -EINVAL, ...) */
	uint32_t length;      /* bytes moved */
	uint32_t data_crc32c; /* read: CRC32C of the data placed at addr */
	uint64_t size;        /* INFO: unit size in bytes */
	uint32_t flags;       /* INFO: COOP_COBD_F_RO */
	uint32_t reserved;
};
COOP_ABI_ASSERT_SIZE(struct coop_cobd_reply, 32);

/*
 * The result of an end-to-end check in the guest (1.4): e.g. `blk verify`
 * read back `checked` sectors and `bad` of them did not hold what was
 * written, although every request succeeded - silent corruption or loss.
 * The fault layer counts these as escaped faults.
 */
struct coop_mon_check {
	uint64_t checked; /* units checked (sectors) */
	uint64_t bad;     /* of them, wrong although no error was reported */
	uint16_t device;  /* what was checked: COOP_DEV_COBD ... */
	uint16_t unit;    /* its unit */
	uint32_t reserved;
};
COOP_ABI_ASSERT_SIZE(struct coop_mon_check, 24);

/*
 * A driver gave up on a request (1.4): every attempt with this id failed
 * and the error went to its caller.  Faults on the request were noticed
 * (a loud error, not silent damage) but not recovered from.
 */
struct coop_mon_failed {
	uint64_t seq;     /* the request id */
	uint16_t device;  /* COOP_DEV_COBD ... */
	uint16_t unit;    /* its unit */
	int32_t error;    /* the -errno its caller got */
};
COOP_ABI_ASSERT_SIZE(struct coop_mon_failed, 16);

/*
 * An end-to-end check found this sector wrong although its read succeeded
 * (1.4), sent before the check's coop_mon_check: the fault layer finds the
 * fault that damaged it (escaped).
 */
struct coop_mon_bad {
	uint64_t sector;  /* in the unit, in COOP_COBD_SECTOR units */
	uint16_t device;  /* COOP_DEV_COBD */
	uint16_t unit;    /* its unit */
	uint32_t reserved;
};
COOP_ABI_ASSERT_SIZE(struct coop_mon_bad, 16);

/*
 * A one-way message window.  The producer appends messages and bumps
 * count and bytes; the consumer takes them all in order and sets both to
 * zero.  The two sides are coroutines, never concurrent: ownership passes
 * with the world switch.
 */
struct coop_msg_window {
	uint32_t count; /* messages in data[] */
	uint32_t bytes; /* bytes of data[] in use */
	uint64_t reserved;
	uint8_t data[COOP_MSG_WINDOW_SIZE - 16];
};
COOP_ABI_ASSERT_SIZE(struct coop_msg_window, COOP_MSG_WINDOW_SIZE);

/* The passage: the first COOP_PASSAGE_SIZE bytes of guest RAM. */
struct coop_passage {
	struct coop_passage_header hdr;
	struct coop_boot_params boot;
	struct coop_op op;
	uint8_t reserved0[COOP_PASSAGE_OFF_VIRQ - COOP_PASSAGE_OFF_OP - sizeof(struct coop_op)];
	struct coop_virq_state virq;
	uint8_t reserved1[COOP_PASSAGE_OFF_HOST - COOP_PASSAGE_OFF_VIRQ -
			  sizeof(struct coop_virq_state)];
	struct coop_cpu_context host;  /* unused since 1.5: the host keeps its own */
	struct coop_cpu_context guest; /* the guest's side while the host runs */
	uint8_t reserved2[COOP_PASSAGE_OFF_TO_HOST - COOP_PASSAGE_OFF_GUEST -
			  sizeof(struct coop_cpu_context)];
	struct coop_msg_window to_host;  /* guest -> host messages */
	struct coop_msg_window to_guest; /* host -> guest messages */
};
COOP_ABI_ASSERT_OFF(struct coop_passage, hdr, COOP_PASSAGE_OFF_HDR);
COOP_ABI_ASSERT_OFF(struct coop_passage, boot, COOP_PASSAGE_OFF_BOOT);
COOP_ABI_ASSERT_OFF(struct coop_passage, op, COOP_PASSAGE_OFF_OP);
COOP_ABI_ASSERT_OFF(struct coop_passage, virq, COOP_PASSAGE_OFF_VIRQ);
COOP_ABI_ASSERT_OFF(struct coop_passage, host, COOP_PASSAGE_OFF_HOST);
COOP_ABI_ASSERT_OFF(struct coop_passage, guest, COOP_PASSAGE_OFF_GUEST);
COOP_ABI_ASSERT_OFF(struct coop_passage, to_host, COOP_PASSAGE_OFF_TO_HOST);
COOP_ABI_ASSERT_OFF(struct coop_passage, to_guest, COOP_PASSAGE_OFF_TO_GUEST);
COOP_ABI_ASSERT_SIZE(struct coop_passage, COOP_PASSAGE_SIZE);
_Static_assert(COOP_PASSAGE_SIZE <= COOP_KERNEL_OFFSET, "the kernel is loaded above the passage");

/* Bytes a message with @length payload bytes takes in a window. */
static inline uint32_t coop_msg_size(uint32_t length)
{
	return (uint32_t)((sizeof(struct coop_msg_hdr) + length + COOP_MSG_ALIGN - 1) &
			  ~(uint32_t)(COOP_MSG_ALIGN - 1));
}

/*
 * Write one message into a window with room for it (coop_msg_size(h->length)
 * bytes): its header @h, its payload, zeros to COOP_MSG_ALIGN; then count
 * it.  Both sides' one way to fill a window (the caller checks the room).
 */
static inline void coop_msg_append(struct coop_msg_window *w, const struct coop_msg_hdr *h,
				   const void *payload)
{
	uint8_t *dst = w->data + w->bytes;
	uint32_t size = coop_msg_size(h->length);

	__builtin_memcpy(dst, h, sizeof(*h));
	__builtin_memcpy(dst + sizeof(*h), payload, h->length);
	__builtin_memset(dst + sizeof(*h) + h->length, 0, size - sizeof(*h) - h->length);
	w->bytes += size;
	w->count++;
}

#endif /* !__ASSEMBLER__ && !COOP_LINKER_SCRIPT */
#endif /* COOP_ABI_H */
