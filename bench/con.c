/* SPDX-License-Identifier: MIT */
/*
 * con.c - a console line round trip: a peer thread writes "echo L<i>\n" to
 * the guest's console and times until the guest's shell has printed
 * "L<i>\n" back (INPUT message and cocon vIRQ, the shell wakes, parses,
 * prints: a WRITE message, the host writes it out).  The baseline is the
 * same peer against a thread that answers each line the same way over the
 * same kind of socket: what the transport alone costs.  Both threads run
 * on the one pinned CPU.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench/bench.h"
#include "core/shim.h"

#define LINE_TIMEOUT_MS 10000

/* The peer's side of a line benchmark. */
struct line_bench {
	size_t n, warm; /* samples, warm-up lines before them */
	uint64_t *v;    /* cycles per line */
	size_t got;     /* samples taken */
};

/* Send "echo WORD", wait for "WORD\n" (skipping anything else); 0 or -errno. */
static int echo_line(int fd, const char *word)
{
	char cmd[64], want[64], line[256];
	int len = snprintf(cmd, sizeof(cmd), "echo %s\n", word), rc;

	snprintf(want, sizeof(want), "%s\n", word);
	if (write(fd, cmd, (size_t)len) != len)
		return -EIO;
	while ((rc = bench_read_line(fd, line, sizeof(line), LINE_TIMEOUT_MS)) > 0)
		if (!strcmp(line, want))
			return 0;
	return rc ? rc : -EIO;
}

static int line_peer(int fd, void *arg)
{
	struct line_bench *b = arg;
	char word[32];
	int rc = echo_line(fd, "ready"); /* the shell is up */

	for (size_t i = 0; !rc && i < b->warm + b->n; i++) {
		uint64_t t0;

		snprintf(word, sizeof(word), "L%zu", i);
		t0 = bench_tsc_begin();
		rc = echo_line(fd, word);
		t0 = bench_tsc_end() - t0;
		if (i >= b->warm)
			b->v[b->got++] = t0;
	}
	return rc;
}

static int line_result(struct bench_result *r, struct line_bench *b, int rc)
{
	if (!rc)
		rc = bench_latency(r, b->v, b->got, bench_timer_overhead(), 1);
	free(b->v);
	return rc;
}

int bench_cocon_line_rtt(const struct bench_opts *o, struct bench_result *r)
{
	struct line_bench b = { .n = bench_n(o, 1000, 10000) };
	struct shim_config cfg = { .cmdline = "" };

	r->name = "cocon_line_rtt";
	r->note =
	    "console line round trip: 'echo L' in -> guest shell -> 'L' out, host socket to socket";
	r->baseline = "cocon_raw_rtt";
	b.warm = b.n / 10;
	b.v = calloc(b.n, sizeof(*b.v));
	if (!b.v)
		return -ENOMEM;
	return line_result(r, &b, bench_guest_console(o, &cfg, line_peer, &b));
}

/* The baseline's far side: answer "echo WORD\n" with "WORD\n". */
static void *echo_main(void *arg)
{
	int fd = *(int *)arg;
	char line[256];

	bench_block_signals();
	while (bench_read_line(fd, line, sizeof(line), LINE_TIMEOUT_MS) > 0) {
		size_t len = strlen(line);

		if (len > 5 && !strncmp(line, "echo ", 5) && write(fd, line + 5, len - 5) < 0)
			break;
	}
	return NULL;
}

int bench_cocon_raw_rtt(const struct bench_opts *o, struct bench_result *r)
{
	struct line_bench b = { .n = bench_n(o, 1000, 10000) };
	pthread_t th;
	int sv[2], rc;

	r->name = "cocon_raw_rtt";
	r->note = "the same lines answered by a thread over a UNIX stream socket, same core";
	b.warm = b.n / 10;
	b.v = calloc(b.n, sizeof(*b.v));
	if (!b.v || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv))
		return line_result(r, &b, -ENOMEM);
	rc = -pthread_create(&th, NULL, echo_main, &sv[1]);
	if (!rc) {
		rc = line_peer(sv[0], &b);
		shutdown(sv[0], SHUT_RDWR); /* the echo thread reads EOF */
		pthread_join(th, NULL);
	}
	close(sv[0]);
	close(sv[1]);
	return line_result(r, &b, rc);
}
