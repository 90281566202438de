/* SPDX-License-Identifier: MIT */
/*
 * baselines.c - what the host's own kernel and CPU charge for the things
 * coop's mechanisms resemble, measured in the same process on the same
 * CPU: a bare syscall, a VM exit to this machine's hypervisor (cpuid), a
 * signal round trip and its two halves (each the interval of the coop
 * mechanism compared with it), and futex / pipe ping-pong between two
 * threads pinned to one core (each round trip is two thread switches).
 */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "core/shim.h"

#ifndef sigev_notify_thread_id /* glibc before 2.41 names only the union member */
#define sigev_notify_thread_id _sigev_un._tid
#endif

#define NO_SYSCALL 1023 /* no such system call: the kernel answers -ENOSYS */

/* A system call that does nothing but enter and leave the kernel. */
static inline long bare_syscall(void)
{
	long ret;

	__asm__ volatile("syscall" : "=a"(ret) : "a"((long)NO_SYSCALL) : "rcx", "r11", "memory");
	return ret;
}

int bench_syscall(const struct bench_opts *o, struct bench_result *r)
{
	r->name = "syscall_rtt";
	r->note = "bare syscall (no such call: -ENOSYS), into the host kernel and back";
	return BENCH_MEASURE(o, r, 10000, 100000, BENCH_BATCH, bare_syscall());
}

/* Does cpuid leave this machine (the CPU runs under a hypervisor)? */
static bool virtualized(void)
{
	unsigned int a, b, c, d;

	return __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 31));
}

int bench_cpuid(const struct bench_opts *o, struct bench_result *r)
{
	unsigned int a, b, c, d;

	r->name = "cpuid_exit_rtt";
	r->note = virtualized()
	              ? "cpuid: a VM exit to the hypervisor this machine runs on, and back"
	              : "cpuid (no hypervisor: runs on the CPU, no exit)";
	return BENCH_MEASURE(o, r, 2000, 20000, 4, __cpuid(0, a, b, c, d));
}

static volatile sig_atomic_t handled;

static void on_signal(int sig)
{
	(void)sig;
	handled++;
}

/* tgkill(self) returns after the handler ran: one round trip per call. */
int bench_signal_rtt(const struct bench_opts *o, struct bench_result *r)
{
	struct sigaction sa = { .sa_handler = on_signal }, old;
	pid_t pid = getpid(), tid = gettid();
	int rc;

	r->name = "signal_rtt";
	r->note = "tgkill to self -> handler -> sigreturn, same core";
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, &old))
		return -errno;
	rc = BENCH_MEASURE(o, r, 20000, 200000, 1, tgkill(pid, tid, SIGUSR1));
	sigaction(SIGUSR1, &old, NULL);
	return rc;
}

/*
 * The halves of a signal, stamped at the handler's first instruction the
 * way the monitor stamps a host interrupt (handler entry, lfence; rdtsc).
 */
static volatile uint64_t entered;

static void on_signal_stamp(int sig)
{
	(void)sig;
	entered = shim_rdtsc();
}

static int stamp_handler(struct sigaction *old)
{
	struct sigaction sa = { .sa_handler = on_signal_stamp };

	sigemptyset(&sa.sa_mask);
	return sigaction(SIGUSR1, &sa, old) ? -errno : 0;
}

/*
 * virq_deliver's interval on the host: a signal raised to this thread ->
 * the handler's first instruction (tgkill, the kernel's delivery, the
 * signal frame, the handler's entry).
 */
int bench_signal_deliver(const struct bench_opts *o, struct bench_result *r)
{
	size_t n = bench_n(o, 20000, 200000), w = n / 10;
	pid_t pid = getpid(), tid = gettid();
	uint64_t *v = calloc(n, sizeof(*v));
	struct sigaction old;
	int rc;

	r->name = "signal_deliver";
	r->note = "tgkill to self -> the handler's first instruction, same core";
	if (!v)
		return -ENOMEM;
	if ((rc = stamp_handler(&old))) {
		free(v);
		return rc;
	}
	for (size_t i = 0; i < w + n; i++) {
		uint64_t t0 = shim_rdtsc();

		entered = 0;
		tgkill(pid, tid, SIGUSR1);
		if (i >= w)
			v[i - w] = entered > t0 ? entered - t0 : 0;
	}
	sigaction(SIGUSR1, &old, NULL);
	rc = bench_latency(r, v, n, bench_guest_timer_overhead(), 1);
	free(v);
	return rc;
}

/*
 * irq_forward's interval on the host: a timer signal interrupts code that
 * spins; a sample runs from the handler's first instruction to the
 * interrupted code running again (the handler returns, rt_sigreturn
 * restores the interrupted context).  The spinning code reads the TSC and
 * then the stamp, so the first read after the return closes the sample; a
 * stamp newer than the read means the signal came in between, and the next
 * round closes it.
 */
#define SIGNAL_RETURN_HZ 2000

int bench_signal_return(const struct bench_opts *o, struct bench_result *r)
{
	size_t n = bench_n(o, 1000, 5000), w = n / 10, k = 0;
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGUSR1 };
	struct itimerspec its = { .it_interval = { 0, 1000000000 / SIGNAL_RETURN_HZ } };
	/* twice the time the ticks need, and a second more: a timer that stops is an error */
	uint64_t give_up = shim_now_ns() + 2 * (w + n) * 1000000000ull / SIGNAL_RETURN_HZ +
			   1000000000ull;
	uint64_t *v = calloc(n, sizeof(*v));
	struct sigaction old;
	timer_t t;
	int rc;

	r->name = "signal_return";
	r->note = "a timer signal's handler, first instruction -> the interrupted code runs again "
		  "(rt_sigreturn), same core";
	if (!v)
		return -ENOMEM;
	if ((rc = stamp_handler(&old)))
		goto out_free;
	sev.sigev_notify_thread_id = gettid();
	if (timer_create(CLOCK_MONOTONIC, &sev, &t)) {
		rc = -errno;
		goto out_handler;
	}
	entered = 0;
	its.it_value = its.it_interval;
	if (timer_settime(t, 0, &its, NULL)) {
		rc = -errno;
		goto out_timer;
	}
	while (k < w + n) {
		uint64_t now = shim_rdtsc(), e = entered;

		if (e && now > e) {
			entered = 0;
			if (k >= w)
				v[k - w] = now - e;
			k++;
		} else if (!(k & 1023) && shim_now_ns() > give_up) {
			break;
		}
	}
	rc = k < w + n ? -ETIME : bench_latency(r, v, n, bench_guest_timer_overhead(), 1);
out_timer:
	timer_delete(t);
out_handler:
	sigaction(SIGUSR1, &old, NULL);
out_free:
	free(v);
	return rc;
}

/* ---- two threads on one core ------------------------------------------------ */

enum { TURN_MAIN, TURN_PARTNER, TURN_STOP };
static uint32_t turn;                 /* futex word: whose turn it is */
static int to_partner[2], to_main[2]; /* pipes */

static long futex(uint32_t *word, int op, uint32_t val)
{
	return syscall(SYS_futex, word, op | FUTEX_PRIVATE_FLAG, val, NULL, NULL, 0);
}

static void futex_pass(uint32_t to)
{
	__atomic_store_n(&turn, to, __ATOMIC_SEQ_CST);
	futex(&turn, FUTEX_WAKE, 1);
}

static void futex_await(uint32_t not )
{
	while (__atomic_load_n(&turn, __ATOMIC_SEQ_CST) == not )
		futex(&turn, FUTEX_WAIT, not );
}

static void *futex_partner(void *arg)
{
	bench_block_signals();
	for (;;) {
		futex_await(TURN_MAIN);
		if (__atomic_load_n(&turn, __ATOMIC_SEQ_CST) == TURN_STOP)
			return arg;
		futex_pass(TURN_MAIN);
	}
}

/* One round trip: hand the turn over, wait until it comes back. */
static void futex_round_trip(void)
{
	futex_pass(TURN_PARTNER);
	futex_await(TURN_PARTNER);
}

int bench_futex_pingpong(const struct bench_opts *o, struct bench_result *r)
{
	pthread_t th;
	int rc;

	r->name = "futex_pingpong_rtt";
	r->note = "futex wake -> other thread -> futex wake back, both pinned to one core";
	turn = TURN_MAIN;
	if ((rc = pthread_create(&th, NULL, futex_partner, NULL)))
		return -rc;
	rc = BENCH_MEASURE(o, r, 5000, 50000, 1, futex_round_trip());
	futex_pass(TURN_STOP);
	pthread_join(th, NULL);
	return rc;
}

static void *pipe_partner(void *arg)
{
	char c;

	bench_block_signals();
	while (read(to_partner[0], &c, 1) == 1)
		if (write(to_main[1], &c, 1) != 1)
			break;
	return arg;
}

static void pipe_round_trip(void)
{
	char c = 'p';

	if (write(to_partner[1], &c, 1) != 1 || read(to_main[0], &c, 1) != 1)
		abort(); /* our own pipes: cannot happen */
}

int bench_pipe_pingpong(const struct bench_opts *o, struct bench_result *r)
{
	pthread_t th;
	int rc;

	r->name = "pipe_pingpong_rtt";
	r->note = "1 byte through a pipe to another thread and back, both pinned to one core";
	if (pipe2(to_partner, O_CLOEXEC))
		return -errno;
	if (pipe2(to_main, O_CLOEXEC)) {
		rc = -errno;
		goto err_close;
	}
	if ((rc = pthread_create(&th, NULL, pipe_partner, NULL))) {
		rc = -rc;
		goto err_close_both;
	}
	rc = BENCH_MEASURE(o, r, 5000, 50000, 1, pipe_round_trip());
	close(to_partner[1]); /* the partner reads EOF and ends */
	to_partner[1] = -1;
	pthread_join(th, NULL);
err_close_both:
	close(to_main[0]);
	close(to_main[1]);
err_close:
	close(to_partner[0]);
	if (to_partner[1] >= 0)
		close(to_partner[1]);
	return rc;
}
