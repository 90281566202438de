/* SPDX-License-Identifier: MIT */
/*
 * machine.c - what the figures were measured on, printed with them and
 * written into the JSON: CPU, TSC, kernel, the hypervisor below us (if
 * any), what /dev/kvm is, the timer overheads that were subtracted.
 */
#include <cpuid.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <coop/kmod.h>

#include "bench/bench.h"
#include "core/shim.h"

#ifndef COOP_VERSION
#define COOP_VERSION "unknown"
#endif

static void cpu_model(char *buf, size_t len)
{
	char line[256];
	FILE *f = fopen("/proc/cpuinfo", "r");

	snprintf(buf, len, "unknown CPU");
	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && colon) {
			snprintf(buf, len, "%s", colon + 2);
			buf[strcspn(buf, "\n")] = '\0';
			break;
		}
	}
	if (f)
		fclose(f);
}

/*
 * The hypervisor's signature (cpuid 0x40000000) when the hypervisor bit is
 * set; *hw: it is one that runs guest code on the CPU (vmx/svm below it).
 * QEMU without KVM (TCG) sets the bit and signs "TCGTCGTCGTCG": its
 * figures are an emulator's, and so are those under any signature not
 * listed here.  (vmx/svm in /proc/cpuinfo tells nothing: TCG emulates them.)
 */
static void virt(char *buf, size_t len, char sig[13], bool *hyper, bool *hw)
{
	static const char *const hardware[] = {
		"KVMKVMKVM", "Linux KVM Hv", "Microsoft Hv", "VMwareVMware", "XenVMMXenVMM",
		"VBoxVBoxVBox", "bhyve bhyve", "ACRNACRNACRN", "QNXQVMBSQG", " lrpepyh  vr",
	};
	unsigned int a, b, c, d;

	memset(sig, 0, 13);
	*hyper = *hw = false;
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 31))) {
		snprintf(buf, len, "bare metal (no hypervisor bit)");
		*hw = true;
		return;
	}
	*hyper = true;
	__cpuid(0x40000000, a, b, c, d);
	memcpy(sig, &b, 4), memcpy(sig + 4, &c, 4), memcpy(sig + 8, &d, 4);
	for (int i = 0; i < 12; i++)
		sig[i] = sig[i] >= 0x20 && sig[i] < 0x7f ? sig[i] : '\0';
	for (size_t i = 0; i < sizeof(hardware) / sizeof(hardware[0]); i++)
		*hw |= !strncmp(sig, hardware[i], strlen(hardware[i]));
	snprintf(buf, len, "a virtual machine (hypervisor signature \"%s\")", sig);
}

/* What kind of figures these are: m->emulated and m->figures. */
static void figures(struct bench_machine *m, const struct bench_opts *o, const char *sig,
		    bool hyper, bool hw)
{
	struct coop_kmod_version v = { 0 };
	bool kmod_hyper = o->backend == SHIM_BACKEND_KMOD && !host_kmod_version(&v) &&
			  (v.features & COOP_KMOD_F_HYPERVISOR);

	m->emulated = (hyper || kmod_hyper) && !hw;
	if (m->emulated)
		snprintf(m->figures, sizeof(m->figures),
			 "TCG emulation, not hardware (%s\"%s\"%s)",
			 !strcmp(sig, "TCGTCGTCGTCG") ? "QEMU without KVM: hypervisor signature "
						      : "no hardware hypervisor's signature: ",
			 sig, kmod_hyper ? "; coop.ko sees the hypervisor too" : "");
	else
		snprintf(m->figures, sizeof(m->figures), "hardware (%s)",
			 hyper ? "virtualized by a hardware hypervisor" : "bare metal");
}

void bench_machine_describe(struct bench_machine *m, const struct bench_opts *o)
{
	struct utsname u;
	char sig[13];
	bool hyper, hw;

	memset(m, 0, sizeof(*m));
	cpu_model(m->cpu, sizeof(m->cpu));
	m->cpus = sysconf(_SC_NPROCESSORS_ONLN);
	m->tsc_mhz = (double)shim_tsc_khz() / 1000;
	if (!uname(&u))
		snprintf(m->kernel, sizeof(m->kernel), "%s %s", u.sysname, u.release);
	virt(m->virt, sizeof(m->virt), sig, &hyper, &hw);
	figures(m, o, sig, hyper, hw);
	m->backend = o->backend == SHIM_BACKEND_KMOD ? "kmod" : "user";
	m->kvm = bench_kvm_label();
	m->timer_cycles = bench_timer_overhead();
	m->guest_timer_cycles = bench_guest_timer_overhead();
	m->cpu_pinned = o->cpu;
	snprintf(m->coop, sizeof(m->coop), "coop %s, ABI %u.%u", COOP_VERSION, COOP_ABI_MAJOR,
	         COOP_ABI_MINOR);
}
