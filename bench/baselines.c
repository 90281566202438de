/* SPDX-License-Identifier: MIT */
/*
 * baselines.c - what coop's mechanisms are compared with, measured in the
 * same process: a signal round trip (tgkill to self -> handler ->
 * sigreturn) for interrupt forwarding.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"
#include "core/shim.h"

static volatile sig_atomic_t handled;

static void on_signal(int sig)
{
	(void)sig;
	handled++;
}

/* tgkill(self) returns after the handler ran: one round trip per call. */
int bench_signal_rtt(const struct bench_opts *o, struct bench_result *r)
{
	size_t n = o->iterations ? o->iterations : o->quick ? 20000 : 200000;
	uint64_t *v = calloc(n, sizeof(*v));
	struct sigaction sa = { .sa_handler = on_signal }, old;
	pid_t pid = getpid(), tid = gettid();

	if (!v)
		return -ENOMEM;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, &old);
	for (size_t i = 0; i < n / 10; i++) /* warm-up */
		tgkill(pid, tid, SIGUSR1);
	for (size_t i = 0; i < n; i++) {
		uint64_t t0 = shim_rdtsc();

		tgkill(pid, tid, SIGUSR1);
		v[i] = shim_rdtsc() - t0;
	}
	sigaction(SIGUSR1, &old, NULL);
	r->name = "signal_rtt";
	r->note = "tgkill to self -> handler -> sigreturn, same core";
	bench_summarize(r, v, n, bench_tsc_overhead(), shim_tsc_khz());
	free(v);
	return 0;
}
