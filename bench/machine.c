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

/* The hypervisor's signature (cpuid 0x40000000) when the hypervisor bit is set. */
static void virt(char *buf, size_t len)
{
	unsigned int a, b, c, d;
	char sig[13] = "";

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 31))) {
		snprintf(buf, len, "bare metal (no hypervisor bit)");
		return;
	}
	__cpuid(0x40000000, a, b, c, d);
	memcpy(sig, &b, 4), memcpy(sig + 4, &c, 4), memcpy(sig + 8, &d, 4);
	for (int i = 0; i < 12; i++)
		sig[i] = sig[i] >= 0x20 && sig[i] < 0x7f ? sig[i] : '\0';
	snprintf(buf, len, "a virtual machine (hypervisor signature \"%s\")", sig);
}

void bench_machine_describe(struct bench_machine *m, const struct bench_opts *o)
{
	struct utsname u;

	memset(m, 0, sizeof(*m));
	cpu_model(m->cpu, sizeof(m->cpu));
	m->cpus = sysconf(_SC_NPROCESSORS_ONLN);
	m->tsc_mhz = (double)shim_tsc_khz() / 1000;
	if (!uname(&u))
		snprintf(m->kernel, sizeof(m->kernel), "%s %s", u.sysname, u.release);
	virt(m->virt, sizeof(m->virt));
	m->kvm = bench_kvm_label();
	m->timer_cycles = bench_timer_overhead();
	m->guest_timer_cycles = bench_guest_timer_overhead();
	m->cpu_pinned = o->cpu;
	snprintf(m->coop, sizeof(m->coop), "coop %s, ABI %u.%u", COOP_VERSION, COOP_ABI_MAJOR,
	         COOP_ABI_MINOR);
}
