/* SPDX-License-Identifier: MIT */
/*
 * guest.c - run a real guest for a benchmark: boot it quietly with a
 * command script, capture what its programs print (in a memfd, so that a
 * long output never blocks the single-threaded host), check it powered
 * off cleanly, and hand the output back.  Or drive it through its console
 * (a UNIX socket) from a peer thread, for benchmarks that talk to it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench/bench.h"
#include "core/monitor.h"
#include "core/shim.h"

/* Run exec on a guest; *out (malloc'ed, NUL-terminated) gets its output. */
int bench_guest_run(const struct bench_opts *o, struct shim_config *cfg, const char *exec,
                    char **out, struct shim_samples *fwd)
{
	return bench_guest_run_loop(o, cfg, exec, out, fwd, shim_monitor_run);
}

/* Boot, run on loop until the guest ends, check it powered off. */
static int run_vm(const struct bench_opts *o, struct shim_config *cfg, struct shim_samples *fwd,
                  int (*loop)(struct shim_vm *vm))
{
	struct shim_vm vm;
	char err[SHIM_ERR_MAX];
	int rc;

	cfg->kernel = cfg->kernel ? cfg->kernel : o->kernel;
	cfg->backend = o->backend;
	cfg->mem_size = cfg->mem_size ? cfg->mem_size : 64ull << 20;
	cfg->quiet = true;
	rc = shim_vm_create(&vm, cfg, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "coop bench: %s\n", err);
		return rc;
	}
	vm.irq.fwd.samples = fwd;
	rc = loop(&vm);
	if (rc || vm.state != SHIM_VM_POWERED_OFF) {
		fprintf(stderr, "coop bench: the guest running '%s' ended with %d (%s)\n",
		        cfg->exec ? cfg->exec : "console input", rc,
		        vm.reason[0] ? vm.reason : "no reason given");
		rc = -EIO;
	}
	shim_vm_destroy(&vm);
	return rc;
}

/* The same with another run loop (world_switch_notrace_rtt's, virq_deliver's). */
int bench_guest_run_loop(const struct bench_opts *o, struct shim_config *cfg, const char *exec,
                         char **out, struct shim_samples *fwd, int (*loop)(struct shim_vm *vm))
{
	int fd = memfd_create("coop-bench-out", MFD_CLOEXEC), rc;
	off_t len;

	if (fd < 0)
		return -errno;
	cfg->exec = exec;
	cfg->capture_fd = fd;
	rc = run_vm(o, cfg, fwd, loop);
	len = lseek(fd, 0, SEEK_END);
	*out = len >= 0 ? malloc((size_t)len + 1) : NULL;
	if (!*out || pread(fd, *out, (size_t)len, 0) != len) {
		free(*out);
		*out = NULL;
		rc = rc ? rc : -EIO;
	} else {
		(*out)[len] = '\0';
	}
	close(fd);
	return rc;
}

/* The numbers of "TAG <n>" lines, at most cap of them. */
size_t bench_guest_samples(const char *text, const char *tag, uint64_t *v, size_t cap)
{
	size_t got = 0, tlen = strlen(tag);

	for (const char *line = text; line && *line && got < cap; line = strchr(line, '\n')) {
		line += *line == '\n';
		if (!strncmp(line, tag, tlen) && line[tlen] == ' ')
			got += sscanf(line + tlen, "%" SCNu64, &v[got]) == 1;
	}
	return got;
}

/*
 * Did the guest answer cmd ("bench blk") as a kernel without it does: with
 * a usage that does not name it, or "command not found"?  A usage that
 * names it means the command is there and refused our arguments: a failure.
 */
bool bench_guest_lacks(const char *text, const char *cmd)
{
	return text && ((strstr(text, "usage:") && !strstr(text, cmd)) ||
	                strstr(text, ": command not found"));
}

/* Helper threads leave host interrupts (signals) to the guest's thread. */
void bench_block_signals(void)
{
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
}

/*
 * Read one line ('\n' included, NUL-terminated) byte by byte, so that
 * nothing after it is consumed.  Its length, or -ETIMEDOUT / -EIO.
 */
int bench_read_line(int fd, char *buf, size_t len, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t n = 0;

	while (n + 1 < len) {
		ssize_t got = read(fd, buf + n, 1);

		if (got < 0 && errno == EAGAIN) {
			if (poll(&pfd, 1, timeout_ms) <= 0)
				return -ETIMEDOUT;
			continue;
		}
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return -EIO;
		if (buf[n++] == '\n')
			break;
	}
	buf[n] = '\0';
	return (int)n;
}

/* The console peer: a thread that runs the benchmark's side, then powers the guest off. */
struct console_peer {
	int fd;                         /* our end of the console */
	int (*peer)(int fd, void *arg); /* the benchmark's side */
	void *arg;                      /* for peer */
	int rc;                         /* peer's result */
};

static void *console_peer_main(void *arg)
{
	struct console_peer *c = arg;
	char line[256];

	bench_block_signals();
	c->rc = c->peer(c->fd, c->arg);
	/* The end of input powers the guest off, whatever happened. */
	if (write(c->fd, "poweroff 0\n", 11) != 11)
		c->rc = c->rc ? c->rc : -EIO;
	shutdown(c->fd, SHUT_WR);
	/* Read what it still says, so that it never waits for room; EOF once coop lets go. */
	while (bench_read_line(c->fd, line, sizeof(line), 10000) > 0)
		;
	return NULL;
}

/*
 * The guest's console is one end of a socket pair, standing in for stdin
 * (and, as the capture fd, stdout) while the guest runs: input a pipe-like
 * stream, no terminal, so the shell reads it line by line and powers off at
 * its end.  Our stdin comes back afterwards.
 */
int bench_guest_console(const struct bench_opts *o, struct shim_config *cfg,
                        int (*peer)(int fd, void *arg), void *arg)
{
	struct console_peer c = { .peer = peer, .arg = arg };
	int sv[2], saved, out, rc;
	bool started = false;
	pthread_t th;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	saved = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
	out = fcntl(sv[0], F_DUPFD_CLOEXEC, 3);
	c.fd = sv[1];
	rc = out < 0 || dup2(sv[0], STDIN_FILENO) < 0 ? -errno : 0;
	if (!rc && fcntl(sv[1], F_SETFL, O_NONBLOCK))
		rc = -errno;
	if (!rc)
		rc = -pthread_create(&th, NULL, console_peer_main, &c);
	started = !rc;
	if (!rc) {
		cfg->console = "stdio";
		cfg->exec = NULL;
		cfg->capture_fd = out;
		rc = run_vm(o, cfg, NULL, shim_monitor_run);
	}
	/* Let go of the console: the peer reads EOF and ends. */
	close(STDIN_FILENO);
	if (saved >= 0)
		dup2(saved, STDIN_FILENO);
	if (out >= 0)
		close(out);
	close(sv[0]);
	if (started)
		pthread_join(th, NULL);
	close(sv[1]);
	if (saved >= 0)
		close(saved);
	return rc ? rc : c.rc;
}
