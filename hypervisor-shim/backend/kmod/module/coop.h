/* SPDX-License-Identifier: GPL-2.0 */
/*
 * coop.h - the module's one internal header: the switch state the
 * switcher (switcher.S) shares with C, the guest, and every cross-file
 * function grouped by the file that defines it.  User space sees none of
 * this; its contract is <coop/kmod.h>, the guest's is <coop/abi.h>.
 */
#ifndef COOP_KMOD_COOP_H
#define COOP_KMOD_COOP_H

#include <linux/irq_work.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <asm/desc_defs.h>
#include <asm/page_64_types.h>
#include <asm/processor.h>

#include <coop/abi.h>
#include <coop/kmod.h>

struct vm_area_struct;

/* GDT selectors the guest world shares with the host's (asm/segment.h). */
#define COOP_GDT_ENTRIES GDT_ENTRIES
#define COOP_TSS_SEL (GDT_ENTRY_TSS * 8)

/*
 * Interrupt stacks, as gate numbers (1-based; the TSS's ist[] is 0-based).
 * Twice in a switch (switcher.S, E1..E2 and X4) the host's IDT is loaded
 * while TR is the module's TSS: a host NMI, #MC, #DB, #DF or #VC then
 * takes its stack from the module's TSS at the host's own index.  So every
 * index the host uses (IST_INDEX_*) holds a real stack there.  The
 * module's own gates use two indices the host leaves free, which a Linux
 * guest's TSS points at the same stacks (abi.h, COOP_LINUX_IST_*): the
 * NMI stub's stack, and sw->guest, where every other exit lands.
 */
#define COOP_IST_DF (IST_INDEX_DF + 1)
#define COOP_IST_NMI (IST_INDEX_NMI + 1)
#define COOP_IST_DB (IST_INDEX_DB + 1)
#define COOP_IST_MC (IST_INDEX_MCE + 1)
#define COOP_IST_VC (IST_INDEX_VC + 1)
#define COOP_IST_GUEST_NMI COOP_LINUX_IST_NMI /* the module's NMI stub; no host use */
#define COOP_IST_REGS COOP_LINUX_IST_MC /* every other vector: the frame lands in sw->guest */
#define COOP_SW_STACK 8192 /* bytes of each real IST stack (Linux's are 4 KiB) */

/* Guests at once: each has a slot of the switch-state pool (vm.c). */
#define COOP_MAX_VMS 8
/* Bytes of one per-slot hypercall entry in switcher.S (coop_sw_calls). */
#define COOP_CALL_SIZE 32

/* Bytes of one interrupt stub in switcher.S: gate v points at stubs + v * this. */
#define COOP_STUB_SIZE 16

/*
 * Set in sw->guest.vector by the switcher when the CPU pushed an error
 * code (found from the stack pointer, not from the vector: a software
 * `int $14` pushes none).  run.c takes it off before anything else reads
 * the vector; user space never sees it.
 */
#define COOP_SW_VEC_ERROR 0x10000

/*
 * A GDTR/IDTR image: lgdt, lidt and sgdt take the 10 bytes at &limit.  The
 * padding keeps base 8-byte aligned, as Linux's struct desc_ptr does not.
 */
struct coop_dtr {
	u16 pad[3];
	u16 limit;
	u64 base;
};

/*
 * The switch state of one guest: everything the switcher touches while
 * either address space is loaded.  A slot of the module's own pool
 * (coop_sw_pool, vm.c), so that it sits in the module's area with the
 * switcher's code, which a Linux guest's page tables keep mapped at the
 * same addresses (the switcher window, boot.kmod): no pointer in it
 * changes meaning when CR3 does.  The guest's page tables map it
 * writable, so the guest could scribble on it: the guest is trusted, as
 * in coLinux.
 *
 * Three sets of descriptor tables take turns: the host's; the module's
 * transition set (gdt, idt, tss), on which the small guest runs; and, for
 * a guest that owns its state (own_state: Linux), the guest's own, saved
 * at each exit and loaded again at each entry.
 */
struct coop_sw {
	/*
	 * The guest's registers while the host runs.  The top of IST
	 * COOP_IST_REGS is the end of this struct: an interrupt or exception
	 * through a module gate pushes its frame (and error code) right into
	 * rip .. ss, the stub pushes vector and the rest, and the registers
	 * are saved in place with no copy.  16-byte aligned, as the CPU
	 * aligns IST stacks.
	 */
	struct coop_kmod_regs guest;
	u64 host_rsp;      /* the host's stack inside coop_sw_run */
	u64 host_cr3;      /* the host's CR3 (+ PCID, + no-flush bit) */
	u64 host_cr4;      /* the host's CR4 (PGE on) */
	u64 host_gs_base;  /* the host's GS base, back before its IDT */
	u64 guest_cr3;     /* the root of the guest's page tables */
	u64 guest_cr4;     /* the guest's CR4: PGE always off (run.c) */
	u64 cr2;           /* CR2 at the guest's exit: a #PF's address */
	u64 host_ss;       /* the host's SS selector (interrupts keep it) */
	u16 host_sel[4];   /* the host's DS, ES, FS, GS selectors */
	u16 guest_sel[4];  /* own_state: the guest's */
	u16 guest_tr;      /* own_state: the guest's TR selector */
	u8 own_state;      /* the guest owns its tables, CR3, CR4 and bases */
	u8 nmi_pending;    /* an NMI hit the switcher: replay it in the host */
	u8 pad0[4];
	u64 guest_fs_base, guest_gs_base, guest_kernel_gs_base; /* own_state */
	u64 guest_tssd[2]; /* own_state: the guest's TSS descriptor, the last valid one */
	u64 exit_tssd[2];  /* own_state: what its GDT held at TR at the last exit */
	struct coop_dtr host_gdtr;  /* the host's GDTR: the read-only fixmap GDT */
	struct coop_dtr host_idtr;  /* the host's IDTR */
	struct coop_dtr tgdtr;      /* -> gdt */
	struct coop_dtr midtr;      /* -> idt */
	struct coop_dtr xgdtr;      /* -> xgdt, to reload the host's TR */
	struct coop_dtr ggdtr;      /* -> ggdt, to load the guest's TR */
	struct coop_dtr guest_gdtr; /* the guest's GDTR (the small guest's: gdt) */
	struct coop_dtr guest_idtr; /* the guest's IDTR (the small guest's: idt) */
	/* Page 1: descriptor tables. */
	/* The transition GDT: the host's, with the module's TSS and no LDT. */
	struct desc_struct gdt[COOP_GDT_ENTRIES] __aligned(PAGE_SIZE);
	/*
	 * The same with the current CPU's host TSS descriptor marked
	 * available, for ltr on the way back (ltr wants an available
	 * descriptor and sets its busy bit; the host's own GDT is read-only
	 * and its descriptor busy).
	 */
	struct desc_struct xgdt[COOP_GDT_ENTRIES];
	/* own_state: the same with the guest's TSS descriptor, available. */
	struct desc_struct ggdt[COOP_GDT_ENTRIES];
	struct x86_hw_tss tss; /* the module's TSS: only ist[] matters */
	/* Page 2: the module's IDT. */
	gate_desc idt[256] __aligned(PAGE_SIZE);
	/* Pages 3..: the real IST stacks (the host's handlers may use them too). */
	u8 df_stack[COOP_SW_STACK] __aligned(PAGE_SIZE);
	u8 nmi_stack[COOP_SW_STACK];
	u8 db_stack[COOP_SW_STACK];
	u8 mc_stack[COOP_SW_STACK];
	u8 vc_stack[COOP_SW_STACK];
	u8 guest_nmi_stack[PAGE_SIZE]; /* coop_sw_nmi only; its top finds sw */
};

/* A guest: the state behind one open /dev/coop. */
struct coop_vm {
	struct mutex lock;       /* one ioctl at a time */
	struct mm_struct *mm;    /* the creator's address space (pins count there) */
	u64 ram_size;            /* bytes of guest RAM */
	unsigned long npages;    /* pages of guest RAM */
	struct page **pages;     /* pinned guest RAM, by guest page number */
	struct coop_passage *passage; /* the passage, vmap()ed (Linux: memremap()ed) */
	struct coop_sw *sw;      /* the switch state: a slot of coop_sw_pool */
	unsigned int slot;       /* ... its index */
	void *phys_va;           /* Linux: guest RAM, memremap()ed for the kernel */
	u64 host_xcr0;           /* Linux: XCR0 of the host, and ... */
	u64 guest_xcr0;          /* ... of the guest, swapped when they differ */
	u64 guest_cr0;           /* Linux: the guest's CR0 */
	unsigned long guest_dr7; /* Linux: the guest's DR7 (its breakpoints) */
	u64 guest_lstar;         /* Linux: its LSTAR (SET_SYSCALL), loaded around entries; 0: none */
	u64 guest_cstar;         /* ... and CSTAR, with LSTAR (SYSENTER_CS is 0 meanwhile) */
	struct irq_work window;  /* Linux: the interrupt window for its vIRQs (run.c) */
	u64 *pt_root;            /* the root of the guest's page tables */
	void **pt_pages;         /* every page-table page, to free them */
	unsigned int pt_count;   /* ... in use */
	unsigned int pt_cap;     /* ... allocated */
	unsigned int levels;     /* 4 or 5 */
	void *fpu;               /* the guest's xsave/fxsave area */
	unsigned int fpu_order;  /* its allocation order */
	u32 flags;               /* COOP_KMOD_CREATE_* */
	bool loaded;             /* LOAD happened: RUN may enter */
	u32 nsegs;               /* loaded segments ... */
	struct coop_kmod_seg segs[COOP_KMOD_MAX_SEGS]; /* ... for vIRQ entry checks */
	u64 guard;               /* the unmapped stack guard page, 0: none */
	struct coop_kmod_stats stats; /* totals since CREATE */
	u64 tsc_in, tsc_out;     /* TSC at the last switch in / out */
	struct coop_kmod_trip trip; /* the entry under way (run.c) */
	unsigned int log_cap;    /* RUN's log: records wanted (0: none) ... */
	unsigned int log_count;  /* ... written ... */
	struct coop_kmod_trip log[COOP_KMOD_LOG_MAX]; /* ... here, copied out at its end */
};

/* switcher.S */
void coop_sw_run(struct coop_sw *sw);
void coop_sw_replay(unsigned long handler);
extern const u8 coop_sw_calls[]; /* slot i's switch_to_host: + i * COOP_CALL_SIZE */
void coop_sw_return_trap(void);
extern const u8 coop_sw_stubs[];
void coop_sw_nmi(void);
extern const u8 __coop_switcher_start[], __coop_switcher_end[];

/* vm.c: the pool switcher.S's per-slot entries point into. */
extern struct coop_sw coop_sw_pool[COOP_MAX_VMS];

/* vm.c */
int coop_vm_create(struct coop_vm *vm, struct coop_kmod_create *c);
int coop_vm_load_linux(struct coop_vm *vm, const struct coop_kmod_load_linux *l);
int coop_vm_mmap(struct coop_vm *vm, struct vm_area_struct *vma);
void coop_phys_layout(struct coop_kmod_layout *l);
int coop_phys_init(void);
void coop_phys_exit(void);
int coop_vm_load(struct coop_vm *vm, const struct coop_kmod_load *l);
void coop_vm_destroy(struct coop_vm *vm);
void coop_vm_state(struct coop_vm *vm, struct coop_kmod_state *s);
bool coop_guest_range(const struct coop_vm *vm, u64 addr, u64 len);
bool coop_guest_text(const struct coop_vm *vm, u64 addr);
bool coop_guest_writable(const struct coop_vm *vm, u64 addr, u64 len);
void coop_guest_write(struct coop_vm *vm, u64 addr, const void *buf, size_t len);

/* page_tables.c */
int coop_pt_init(struct coop_vm *vm);
int coop_pt_map(struct coop_vm *vm, u64 va, u64 phys, bool write, bool exec);
int coop_pt_map_2m(struct coop_vm *vm, u64 va, u64 phys, bool write, bool exec);
u64 coop_pt_pmd(struct coop_vm *vm, u64 va);
int coop_pt_protect(struct coop_vm *vm, u64 va, bool write, bool exec);
int coop_pt_unmap(struct coop_vm *vm, u64 va);
u64 coop_pt_cr3(const struct coop_vm *vm);
void coop_pt_free(struct coop_vm *vm);

/* segments.c */
void coop_segments_init(struct coop_sw *sw);
void coop_segments_host(struct coop_sw *sw);
void coop_segments_own_state(struct coop_sw *sw);

/* run.c */
int coop_vm_run(struct coop_vm *vm, struct coop_kmod_run *r);
void coop_window_init(struct coop_vm *vm);
void coop_window_sync(struct coop_vm *vm);
void coop_tripwire_init(void);
int coop_fpu_init(struct coop_vm *vm);
void coop_fpu_free(struct coop_vm *vm);

/* main.c */
u32 coop_features(void);

#endif /* COOP_KMOD_COOP_H */
