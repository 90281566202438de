// SPDX-License-Identifier: GPL-2.0
/*
 * The Linux guest's halves of `coop bench` (bench/linux.c on the host),
 * asked for on the command line, run as the last initcall (interrupts,
 * the timer and idle at work, before /init), timed in TSC cycles
 * (lfence; rdtsc) and printed as program output (COOP_COCON_WRITE, coop's
 * stdout), one line a sample, after the measurement; then the guest
 * powers off with status 0:
 *
 *   coop_bench=switch:N:BATCH  N samples of BATCH null hypercalls
 *                              (COOP_OP_NOP), each sample the cycles of
 *                              its batch: "SWBENCH <cycles>"
 *   coop_bench=forward:N       N host interrupts that hit this kernel,
 *                              each the cycles of its FORWARD, from
 *                              coop_host_irq() until the host's handler,
 *                              replayed by coop.ko, came back to us:
 *                              "FWDBENCH <cycles>"
 *
 * A value that does not parse is a panic that names it (coop exits 3).
 */
#include <linux/init.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <asm/coop.h>
#include <asm/msr.h>
#include <asm/processor.h>

#include "coop.h"

#define COOP_BENCH_MAX 1000000   /* samples at most (8 MB) */
#define COOP_BENCH_BATCH_MAX 1000 /* round trips a sample */
#define COOP_BENCH_FORWARD_S 60  /* seconds (guest time) the forward samples may take */

static char coop_bench_arg[64] __initdata;

static int __init coop_bench_param(char *arg)
{
	if (!arg || strlen(arg) >= sizeof(coop_bench_arg))
		return -EINVAL;
	strscpy(coop_bench_arg, arg, sizeof(coop_bench_arg));
	return 0;
}
early_param("coop_bench", coop_bench_param);

/* The forward samples: coop_host_irq() adds one per FORWARD while on. */
static struct {
	u64 *v;
	unsigned long n, cap;
	bool on;
} coop_fwd;

u64 coop_bench_forward_begin(void)
{
	return READ_ONCE(coop_fwd.on) ? rdtsc_ordered() : 0;
}

void coop_bench_forward_end(u64 t0)
{
	if (t0 && coop_fwd.n < coop_fwd.cap)
		coop_fwd.v[coop_fwd.n++] = rdtsc_ordered() - t0;
}

/* "TAG <n>" lines to coop's stdout, as many to a message as fit. */
static void __init coop_bench_print(const char *tag, const u64 *v, unsigned long n)
{
	static char buf[COOP_MSG_MAX_PAYLOAD] __initdata;
	size_t len = 0;

	for (unsigned long i = 0; i < n; i++) {
		if (sizeof(buf) - len < 48) {
			coop_msg_send(COOP_DEV_COCON, 0, COOP_COCON_WRITE, buf, len);
			len = 0;
		}
		len += scnprintf(buf + len, sizeof(buf) - len, "%s %llu\n", tag, v[i]);
	}
	if (len)
		coop_msg_send(COOP_DEV_COCON, 0, COOP_COCON_WRITE, buf, len);
	coop_msg_flush();
}

static void __init coop_bench_switch(u64 *v, unsigned long n, unsigned long batch)
{
	for (unsigned long i = 0; i < n; i++) {
		u64 t0 = rdtsc_ordered();

		for (unsigned long j = 0; j < batch; j++)
			coop_hypercall(COOP_OP_NOP, NULL, 0);
		v[i] = rdtsc_ordered() - t0;
	}
	coop_bench_print("SWBENCH", v, n);
}

/* Spin with interrupts on until n host interrupts came (or the time is up). */
static unsigned long __init coop_bench_forward(u64 *v, unsigned long n)
{
	unsigned long end = jiffies + COOP_BENCH_FORWARD_S * HZ;

	coop_fwd.v = v;
	coop_fwd.cap = n;
	WRITE_ONCE(coop_fwd.on, true);
	while (READ_ONCE(coop_fwd.n) < n && time_before(jiffies, end))
		cpu_relax();
	WRITE_ONCE(coop_fwd.on, false);
	coop_bench_print("FWDBENCH", v, coop_fwd.n);
	return coop_fwd.n;
}

/* "switch:N:BATCH" or "forward:N": which (1 switch, 2 forward), or 0. */
static int __init coop_bench_parse(unsigned long *n, unsigned long *batch)
{
	static char arg[sizeof(coop_bench_arg)] __initdata;
	char *s = arg, *what, *num, *bat;

	strscpy(arg, coop_bench_arg, sizeof(arg));
	what = strsep(&s, ":");
	num = strsep(&s, ":");
	bat = strsep(&s, ":");
	if (!num || s || kstrtoul(num, 10, n) || !*n || *n > COOP_BENCH_MAX)
		return 0;
	if (!strcmp(what, "switch") && bat)
		return !kstrtoul(bat, 10, batch) && *batch && *batch <= COOP_BENCH_BATCH_MAX ? 1 : 0;
	return !strcmp(what, "forward") && !bat ? 2 : 0;
}

static int __init coop_bench(void)
{
	unsigned long n, batch = 1;
	int which;
	u64 *v;

	if (!coop_guest() || !coop_bench_arg[0])
		return 0;
	which = coop_bench_parse(&n, &batch);
	if (!which)
		panic("coop_bench=%s: expected switch:N:BATCH or forward:N (N 1..%u, BATCH 1..%u)",
		      coop_bench_arg, COOP_BENCH_MAX, COOP_BENCH_BATCH_MAX);
	v = kmalloc_array(n, sizeof(*v), GFP_KERNEL);
	if (!v)
		panic("coop_bench=%s: no memory for %lu samples", coop_bench_arg, n);
	if (which == 1)
		coop_bench_switch(v, n, batch);
	else if (coop_bench_forward(v, n) < n)
		pr_warn("coop_bench: %lu of %lu host interrupts in %u s\n", coop_fwd.n, n,
			COOP_BENCH_FORWARD_S);
	coop_terminate(0);
}
late_initcall_sync(coop_bench);
