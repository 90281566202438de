// SPDX-License-Identifier: GPL-2.0
/*
 * The coop platform, installed by coop_early_setup() from
 * x86_early_init_platform_quirks() (boot_params.hdr.hardware_subarch ==
 * X86_SUBARCH_COOP), before start_kernel(): the console, the CPU
 * features we must not use, the x86_init/x86_platform overrides that keep
 * setup_arch() off ports, legacy MMIO and firmware tables, and the ways
 * out (panic, power off) as coop operations.
 *
 * The host's CPU is shared: no port I/O, no write to an MSR the host
 * owns, no hlt with IF = 0.  Style after arch/x86/kernel/jailhouse.c.
 */
#include <linux/delay.h>
#include <linux/init.h>
#include <linux/initrd.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/memblock.h>
#include <linux/notifier.h>
#include <linux/panic_notifier.h>
#include <linux/pm.h>
#include <linux/printk.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <asm/bootparam.h>
#include <asm/coop.h>
#include <asm/cpufeature.h>
#include <asm/desc.h>
#include <asm/e820/api.h>
#include <asm/i8259.h>
#include <asm/processor.h>
#include <asm/proto.h>
#include <asm/reboot.h>
#include <asm/setup.h>
#include <asm/traps.h>
#include <asm/x86_init.h>

#include "coop.h"

/*
 * CPU features whose use would touch the host's state (LINUX.md-style
 * reasons, one per line).  setup_clear_cpu_cap() records them in
 * cpu_caps_cleared, which get_cpu_cap() applies from early_cpu_init() on,
 * so they are gone before anything in setup_arch() or identify_boot_cpu()
 * reads them.
 */
static const u16 coop_hidden_features[] __initconst = {
	X86_FEATURE_APIC,               /* the LAPIC is the host's */
	X86_FEATURE_X2APIC,
	X86_FEATURE_TSC_DEADLINE_TIMER, /* would program the host's LAPIC timer */
	X86_FEATURE_TSC_ADJUST,         /* tsc_sync.c writes IA32_TSC_ADJUST: the host's TSC */
	X86_FEATURE_RDTSCP,             /* setup_getcpu() writes TSC_AUX, which the host vDSO reads */
	X86_FEATURE_RDPID,
	X86_FEATURE_PGE,                /* no global pages: they outlive a world switch */
	X86_FEATURE_PCID,               /* PCID 0 only; CR4.PCIDE stays the host's */
	X86_FEATURE_INVPCID,
	X86_FEATURE_PKU,                /* PKRU and CR4.PKE stay the host's */
	X86_FEATURE_OSPKE,
	X86_FEATURE_MCE,                /* machine checks are the host's (module #MC stub) */
	X86_FEATURE_MCA,
	X86_FEATURE_MTRR,               /* MTRRs and PAT MSRs are the host's */
	X86_FEATURE_XSAVES,             /* IA32_XSS is never written; XSAVE/XSAVEOPT stay */
	X86_FEATURE_XFD,                /* IA32_XFD likewise (depends on XSAVES anyway) */
	X86_FEATURE_VMX,                /* no nested virtualization */
	X86_FEATURE_SVM,
	X86_FEATURE_ARCH_PERFMON,       /* the PMU is the host's */
	X86_FEATURE_PDCM,
	X86_FEATURE_WAITPKG,            /* umwait_init() writes IA32_UMWAIT_CONTROL */
	X86_FEATURE_MWAIT,              /* idle is the IDLE operation, never mwait or hlt */
};

static void __init coop_hide_cpu_features(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(coop_hidden_features); i++)
		setup_clear_cpu_cap(coop_hidden_features[i]);
	/* The host calibrated the TSC; it is constant and the only clock (no PIT, HPET, RTC). */
	setup_force_cpu_cap(X86_FEATURE_TSC_KNOWN_FREQ);
	setup_force_cpu_cap(X86_FEATURE_TSC_RELIABLE);
}

/* ---- x86_init / x86_platform --------------------------------------------- */

/*
 * The e820 map as the monitor gave it.  e820__memory_setup_default()
 * ignores a map of fewer than two entries and invents one from
 * alt_mem_k (append_e820_table(), arch/x86/kernel/e820.c), but ours may
 * rightly be a single usable range.
 */
static char * __init coop_memory_setup(void)
{
	unsigned int i;

	for (i = 0; i < boot_params.e820_entries && i < ARRAY_SIZE(boot_params.e820_table); i++) {
		struct boot_e820_entry *e = &boot_params.e820_table[i];

		e820__range_add(e->addr, e->size, e->type);
	}
	e820__update_table(e820_table);
	return "BIOS-e820";
}

/* The host measured the TSC (boot.tsc_khz): no PIT calibration (port I/O). */
static unsigned long coop_calibrate_tsc(void)
{
	return coop_passage->boot.tsc_khz;
}

/* No RTC (port I/O): the host's CLOCK_REALTIME at load time. */
static void coop_get_wallclock(struct timespec64 *ts)
{
	*ts = ns_to_timespec64(coop_kmod.wallclock_ns);
}

static int coop_set_wallclock(const struct timespec64 *ts)
{
	return -ENODEV;
}

/*
 * Deliberate stops, for tests: coop_stop=setup_arch panics at the end of
 * setup_arch() (x86_init.oem.banner(): memory, page tables and the e820
 * map are up), coop_stop=init right before the kernel runs /init, with
 * interrupts, the timer and idle at work.
 */
enum coop_stop { COOP_STOP_NONE, COOP_STOP_SETUP_ARCH, COOP_STOP_INIT };
static enum coop_stop coop_stop __initdata;
/* A host older than ABI 1.7 cannot switch LSTAR: no user mode then. */
static bool coop_no_syscall;

static int __init coop_stop_param(char *arg)
{
	if (!arg)
		return -EINVAL;
	if (!strcmp(arg, "setup_arch"))
		coop_stop = COOP_STOP_SETUP_ARCH;
	else if (!strcmp(arg, "init"))
		coop_stop = COOP_STOP_INIT;
	else
		return -EINVAL;
	return 0;
}
early_param("coop_stop", coop_stop_param);

static void __init coop_banner(void)
{
	if (coop_stop == COOP_STOP_SETUP_ARCH)
		panic("coop phase 1 stop");
}

/*
 * The last initcall level: what follows is running /init, which must not
 * happen without our LSTAR (coop_syscall_init()).
 */
static int __init coop_init_stop(void)
{
	unsigned long j0;
	u64 t0;

	if (!coop_guest())
		return 0;
	if (coop_stop != COOP_STOP_INIT) {
		/* A syscall would enter the host's kernel: never run user code then. */
		if (coop_no_syscall)
			panic("coop: the host (ABI %u.%u) does not switch LSTAR (SET_SYSCALL): no user mode",
			      coop_passage->hdr.host_major, coop_passage->hdr.host_minor);
		return 0;
	}
	/* What an --initrd holds is unpacked, or not, by now (populate_rootfs). */
	wait_for_initramfs();
	/* The tick and idle at work: we sleep, the timer vIRQ wakes us. */
	j0 = jiffies;
	t0 = ktime_get_ns();
	msleep(100);
	pr_info("coop: msleep(100): jiffies %lu -> %lu (HZ=%d), %llu us by the TSC; %lu IDLE, %llu vIRQs\n",
		j0, jiffies, HZ, div_u64(ktime_get_ns() - t0, NSEC_PER_USEC), coop_idles,
		coop_passage->virq.delivered);
	panic("coop phase 2 stop");
}
late_initcall_sync(coop_init_stop);

static void __init coop_setup_x86_init(void)
{
	x86_init.resources.memory_setup = coop_memory_setup;
	x86_init.resources.probe_roms = x86_init_noop;       /* no ROM scan at 0xc0000 */
	x86_init.mpparse.find_smp_config = x86_init_noop;    /* no MP table scan */
	x86_init.mpparse.get_smp_config = x86_init_uint_noop;
	x86_init.mpparse.setup_ioapic_ids = x86_init_noop;
	x86_init.irqs.pre_vector_init = x86_init_noop;       /* no 8259 */
	x86_init.irqs.intr_mode_select = x86_init_noop;      /* no APIC */
	x86_init.irqs.intr_mode_init = x86_init_noop;
	x86_init.irqs.intr_init = coop_init_IRQ;             /* irq stubs, no APIC gates */
	x86_init.timers.timer_init = coop_timer_init;
	x86_init.timers.setup_percpu_clockev = x86_init_noop;
	x86_init.oem.banner = coop_banner;
	legacy_pic = &null_legacy_pic;

	x86_platform.calibrate_tsc = coop_calibrate_tsc;
	x86_platform.calibrate_cpu = coop_calibrate_tsc;
	x86_platform.get_wallclock = coop_get_wallclock;
	x86_platform.set_wallclock = coop_set_wallclock;
	x86_platform.realmode_reserve = x86_init_noop;       /* no trampoline below 1 MiB */
	x86_platform.realmode_init = x86_init_noop;
	x86_platform.legacy.rtc = 0;
	x86_platform.legacy.i8042 = X86_LEGACY_I8042_PLATFORM_ABSENT;
	x86_platform.legacy.warm_reset = 0;
	x86_platform.legacy.reserve_bios_regions = 0;
	x86_platform.legacy.devices.pnpbios = 0;
}

/* ---- The ways out: coop operations, never hlt ----------------------------- */

static void coop_power_off(void)
{
	coop_terminate(0);
}

static void coop_restart(char *cmd)
{
	coop_terminate(0); /* coop has no reset: the run ends */
}

/* The panic's message to coop, which prints it and exits with status 3. */
static int coop_panic_notify(struct notifier_block *nb, unsigned long event, void *msg)
{
	coop_panic_op("", 0, msg ? msg : "panic");
}

static struct notifier_block coop_panic_nb = {
	.notifier_call = coop_panic_notify,
	.priority = INT_MIN, /* after every other notifier */
};

static void __init coop_setup_exits(void)
{
	machine_ops.halt = coop_power_off;
	machine_ops.power_off = coop_power_off;
	machine_ops.restart = coop_restart;
	machine_ops.emergency_restart = coop_power_off;
	pm_power_off = coop_power_off;
	atomic_notifier_chain_register(&panic_notifier_list, &coop_panic_nb);
}

/* ---- Hooks in idt.c, cpu/common.c and mm/extable.c ------------------------ */

/*
 * syscall_init() on coop: LSTAR, STAR, CSTAR, SYSENTER and SYSCALL_MASK are
 * the host's, and with our LSTAR the host's next system call would enter
 * our kernel.  The module loads our LSTAR around each entry instead; STAR
 * and SYSCALL_MASK hold the same in a 6.1 host and guest.
 */
void coop_syscall_init(void)
{
	/* SYSCALL from 32-bit code: -ENOSYS, as Linux without IA32_EMULATION says. */
	struct coop_op_set_syscall s = { .lstar = (unsigned long)entry_SYSCALL_64,
					 .cstar = (unsigned long)ignore_sysret };

	if (coop_passage->hdr.host_minor < 7 ||
	    coop_hypercall(COOP_OP_SET_SYSCALL, &s, sizeof(s)))
		coop_no_syscall = true;
}

/*
 * NMI and #MC never run guest code: their gates are the module's stubs on
 * the module's interrupt stacks, whoever builds the IDT entry.
 */
void __init coop_idt_gate(unsigned int vector, gate_desc *gate)
{
	struct idt_data d;

	if (!coop_guest())
		return;
	if (vector == X86_TRAP_NMI) {
		init_idt_data(&d, vector, (void *)(unsigned long)coop_kmod.nmi_stub);
		d.bits.ist = COOP_LINUX_IST_NMI;
	} else if (vector == X86_TRAP_MC) {
		init_idt_data(&d, vector, (void *)(unsigned long)coop_kmod.mc_stub);
		d.bits.ist = COOP_LINUX_IST_MC;
	} else {
		return;
	}
	idt_init_desc(gate, &d);
}

/* Our TSS's IST slots for those stubs: the module's stacks. */
void coop_setup_ist(struct tss_struct *tss)
{
	/* Linux's own IST slots end below the module's two. */
	BUILD_BUG_ON(IST_INDEX_VC >= COOP_LINUX_IST_NMI - 1);
	BUILD_BUG_ON(COOP_LINUX_IST_MC > ARRAY_SIZE(tss->x86_tss.ist));

	if (!coop_guest())
		return;
	tss->x86_tss.ist[COOP_LINUX_IST_NMI - 1] = coop_kmod.ist_nmi_top;
	tss->x86_tss.ist[COOP_LINUX_IST_MC - 1] = coop_kmod.ist_mc_top;
}

/*
 * An early exception nothing could fix: early_fixup_exception() would hlt
 * forever with IF = 0, which stops the host CPU.  Tell coop instead.
 */
void __init coop_early_halt(struct pt_regs *regs, int trapnr)
{
	static char msg[128] __initdata;

	if (!coop_guest())
		return;
	snprintf(msg, sizeof(msg), "early exception 0x%02x at ip 0x%lx (error 0x%lx, cr2 0x%lx)",
		 trapnr, regs->ip, regs->orig_ax, native_read_cr2());
	coop_panic_op("arch/x86/mm/extable.c", 0, msg); /* our caller's */
}

/* ---- The platform ---------------------------------------------------------- */

void __init coop_early_setup(void)
{
	unsigned long w = coop_kmod.switcher_va;

	if (!coop_guest())
		panic("coop: hardware_subarch says coop, but we were not entered at coop_startup_64");

	coop_console_init();
	coop_hide_cpu_features();
	coop_setup_x86_init();
	coop_setup_exits();
	coop_idle_init();
	memblock_reserve(coop_passage_phys, COOP_PASSAGE_SIZE);

	pr_info("coop: host ABI %u.%u, passage at 0x%llx, %llu KiB RAM\n",
		coop_passage->hdr.host_major, coop_passage->hdr.host_minor,
		coop_passage_phys, coop_passage->boot.mem_size >> 10);
	pr_info("coop: switcher window 0x%lx-0x%lx installed, LA57=%d\n",
		w, w + coop_kmod.switcher_pmds * PMD_SIZE - 1, coop_la57);
}
