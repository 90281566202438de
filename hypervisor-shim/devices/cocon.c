/* SPDX-License-Identifier: MIT */
/*
 * cocon.c - the console's host side.  Three kinds (--console):
 *  - stdio: guest output (WRITE) to stdout; the guest kernel's log (LOG)
 *    to the terminal when a person is at it, else to stderr, so that piped
 *    stdout carries only what guest programs print.  A terminal is put in
 *    raw mode (the guest echoes and edits) and restored on every way out;
 *  - pty: a new pseudo-terminal (its path printed on stderr) for a person
 *    with screen/picocom; interactive, "\n" sent as "\r\n";
 *  - unix:PATH: a UNIX stream socket; coop waits for one client, then the
 *    client's bytes are the input and its end of input powers the guest off.
 * Input - terminal, pipe, pty, socket or --exec script - reaches the guest
 * as INPUT messages with the cocon vIRQ, and EOF once.  The input fd is a
 * host interrupt (core/watch.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "core/shim.h"
#include "util/util.h"
#include "devices/devices.h"

/*
 * Console input waiting for the guest, in messages of up to 4 KiB: at
 * COCON_IN_QUEUE the input is not read any more (back-pressure on the
 * writer, as a terminal's line discipline does) until the guest has taken
 * half of it.
 */
#define COCON_IN_QUEUE 64

enum cocon_kind { COCON_STDIO, COCON_PTY, COCON_UNIX };

struct shim_cocon {
	enum cocon_kind kind; /* --console */
	int in_fd;        /* console input, -1 once it ended or with --exec */
	int out_fd;       /* WRITE messages go here (-1 after a write error) */
	int log_fd;       /* LOG messages go here */
	int keep_fd;      /* pty: our own slave fd, so the master never hangs up */
	char path[108];   /* unix: the socket's path, removed at close */
	bool interactive; /* a person: raw mode, the guest prompts and echoes */
	bool crlf;        /* pty: send "\n" as "\r\n" */
	char *script;     /* --exec commands as input lines, or NULL */
	size_t script_len; /* bytes of script */
	bool eof_sent;    /* COOP_COCON_EOF has been queued */
	unsigned int queued; /* input messages sent to the router, not yet delivered */
	bool paused;      /* in_fd is not read: the guest has COCON_IN_QUEUE waiting */
};

/* --exec "a; b 'c;d'" -> "a\n b 'c;d'\n": ';' ends a command unless quoted. */
static char *script_from_exec(const char *exec, size_t *len)
{
	size_t n = strlen(exec);
	char *s = malloc(n + 2), quote = 0;

	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char c = exec[i];

		if (quote && c == quote)
			quote = 0;
		else if (!quote && (c == '\'' || c == '"'))
			quote = c;
		s[i] = (c == ';' && !quote) ? '\n' : c;
	}
	s[n] = '\n';
	s[n + 1] = '\0';
	*len = n + 1;
	return s;
}

static int send_input(struct shim_vm *vm, const void *buf, size_t len);
static int send_eof(struct shim_vm *vm);
static void cocon_ready(struct shim_vm *vm, void *arg);

static __attribute__((format(printf, 3, 4))) int fail(char *err, size_t errlen, const char *fmt,
							 ...)
{
	va_list ap;
	int rc = -errno ? -errno : -EINVAL;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

/* A new pseudo-terminal: we read and write the master; a person opens the slave. */
static int open_pty(struct shim_cocon *c, char *err, size_t errlen)
{
	struct termios t;
	const char *slave;
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);

	if (m < 0 || grantpt(m) || unlockpt(m) || !(slave = ptsname(m)))
		return fail(err, errlen, "--console pty: cannot make a pseudo-terminal: %s",
			    strerror(errno));
	/* Hold the slave open ourselves: without a reader the master would hang up. */
	c->keep_fd = open(slave, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (c->keep_fd < 0 || tcgetattr(c->keep_fd, &t))
		return fail(err, errlen, "--console pty: %s: %s", slave, strerror(errno));
	cfmakeraw(&t); /* the guest echoes and edits; the pty must not */
	tcsetattr(c->keep_fd, TCSANOW, &t);
	c->in_fd = c->out_fd = c->log_fd = m;
	c->interactive = c->crlf = true;
	fprintf(stderr, "coop: console on %s\n", slave);
	return 0;
}

/* A UNIX stream socket at path; wait for one client before the guest boots. */
static int open_unix(struct shim_cocon *c, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int l, fd;

	if (!*path || strlen(path) >= sizeof(sa.sun_path))
		return fail(err, errlen, "--console unix:%s: a socket path of 1..%zu bytes", path,
			    sizeof(sa.sun_path) - 1);
	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		errno = EEXIST;
		return fail(err, errlen, "--console unix:%s: exists and is not a socket", path);
	}
	unlink(path); /* a stale socket from an earlier run */
	strcpy(sa.sun_path, path);
	l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) || listen(l, 1))
		return fail(err, errlen, "--console unix:%s: %s", path, strerror(errno));
	snprintf(c->path, sizeof(c->path), "%s", path);
	fprintf(stderr, "coop: waiting for a console client on %s\n", path);
	do
		fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	close(l);
	if (fd < 0)
		return fail(err, errlen, "--console unix:%s: accept: %s", path, strerror(errno));
	c->in_fd = c->out_fd = fd;
	return 0;
}

static int open_stdio(struct shim_cocon *c)
{
	if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
		c->interactive = true;
		c->log_fd = STDOUT_FILENO;
		if (coop_tty_raw(STDIN_FILENO))
			c->interactive = false; /* works, just without line editing */
	}
	return 0;
}

static int open_kind(struct shim_cocon *c, const char *spec, char *err, size_t errlen)
{
	if (!spec || !strcmp(spec, "stdio"))
		return open_stdio(c);
	if (!strcmp(spec, "pty")) {
		c->kind = COCON_PTY;
		return open_pty(c, err, errlen);
	}
	if (!strncmp(spec, "unix:", 5)) {
		c->kind = COCON_UNIX;
		return open_unix(c, spec + 5, err, errlen);
	}
	errno = EINVAL;
	return fail(err, errlen, "--console %s: unknown console (expected stdio, pty or unix:PATH)",
		    spec);
}

static int cocon_open(struct shim_vm *vm, const struct shim_config *cfg, char *err, size_t errlen)
{
	struct shim_cocon *c = calloc(1, sizeof(*c));
	int rc;

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	vm->cocon = c;
	c->out_fd = cfg->capture_fd > 0 ? cfg->capture_fd : cfg->quiet ? -1 : STDOUT_FILENO;
	c->log_fd = cfg->quiet ? -1 : STDERR_FILENO;
	c->in_fd = STDIN_FILENO;
	c->keep_fd = -1;
	if (cfg->exec) {
		/* The whole script, then EOF: queued now, delivered as room allows. */
		c->in_fd = -1;
		c->script = script_from_exec(cfg->exec, &c->script_len);
		if (!c->script || send_input(vm, c->script, c->script_len) || send_eof(vm)) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		return 0;
	}
	rc = open_kind(c, cfg->console, err, errlen);
	if (!rc && shim_watch_fd(vm, c->in_fd, cocon_ready, NULL)) {
		snprintf(err, errlen, "cocon: too many host event sources");
		rc = -ENOSPC;
	}
	return rc;
}

static void cocon_close(struct shim_vm *vm)
{
	struct shim_cocon *c = vm->cocon;

	if (!c)
		return;
	if (c->in_fd >= 0)
		shim_unwatch_fd(vm, c->in_fd);
	coop_tty_restore();
	if (c->kind != COCON_STDIO && c->in_fd >= 0)
		close(c->in_fd);
	if (c->kind != COCON_STDIO && c->out_fd >= 0 && c->out_fd != c->in_fd)
		close(c->out_fd);
	if (c->keep_fd >= 0)
		close(c->keep_fd);
	if (c->path[0])
		unlink(c->path);
	free(c->script);
	free(c);
	vm->cocon = NULL;
}

bool shim_cocon_interactive(const struct shim_vm *vm)
{
	return vm->cocon && vm->cocon->interactive;
}

/* Write everything; a reader that went away or cannot keep up loses it, counted. */
static void write_all(struct shim_vm *vm, int *fd, const uint8_t *buf, size_t len)
{
	while (*fd >= 0 && len) {
		ssize_t n = write(*fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) { /* a pty nobody reads: do not stall the guest */
			vm->stats.console_dropped += len;
			return;
		}
		if (n <= 0) {
			*fd = -1; /* reader went away: keep running, stop writing */
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

/* Guest output; on a pty each "\n" becomes "\r\n", as a terminal expects. */
static void console_out(struct shim_vm *vm, int *fd, const uint8_t *buf, size_t len)
{
	size_t start = 0;

	if (!vm->cocon->crlf) {
		write_all(vm, fd, buf, len);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		write_all(vm, fd, buf + start, i - start);
		write_all(vm, fd, (const uint8_t *)"\r\n", 2);
		start = i + 1;
	}
	write_all(vm, fd, buf + start, len - start);
}

static void cocon_from_guest(struct shim_vm *vm, const struct coop_msg_hdr *h,
			     const uint8_t *payload)
{
	struct shim_cocon *c = vm->cocon;

	switch (h->type) {
	case COOP_COCON_WRITE:
		console_out(vm, &c->out_fd, payload, h->length);
		break;
	case COOP_COCON_LOG:
		console_out(vm, &c->log_fd, payload, h->length);
		break;
	default:
		shim_kill_guest(vm, "cocon%u: message type %u is not one a guest sends", h->unit,
				h->type);
	}
}

/* Input reached the guest's window: read more once half the queue is gone. */
static void cocon_delivered(struct shim_vm *vm, const struct coop_msg_hdr *h)
{
	struct shim_cocon *c = vm->cocon;

	if (!c || h->type != COOP_COCON_INPUT || !c->queued)
		return;
	c->queued--;
	if (c->paused && c->queued <= COCON_IN_QUEUE / 2 && c->in_fd >= 0) {
		c->paused = false;
		shim_watch_pause(vm, c->in_fd, false);
	}
}

const struct shim_device shim_cocon_device = {
	.id = COOP_DEV_COCON,
	.open = cocon_open,
	.close = cocon_close,
	.from_guest = cocon_from_guest,
	.delivered = cocon_delivered,
};

static int send_input(struct shim_vm *vm, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		uint32_t n = len > COOP_MSG_MAX_PAYLOAD ? COOP_MSG_MAX_PAYLOAD : (uint32_t)len;
		int rc = shim_router_send(vm, COOP_DEV_COCON, 0, COOP_COCON_INPUT, p, n);

		if (rc)
			return rc;
		p += n;
		len -= n;
	}
	return 0;
}

static int send_eof(struct shim_vm *vm)
{
	vm->cocon->eof_sent = true;
	return shim_router_send(vm, COOP_DEV_COCON, 0, COOP_COCON_EOF, NULL, 0);
}

/*
 * The input fd is readable (core/watch.c): take what is there, without
 * blocking, and queue it for the guest; at the end of input queue EOF,
 * once.  A pty's master reads EIO when its last slave closed: we hold one
 * open, so EIO here is an error that ends input like EOF.
 */
static void cocon_ready(struct shim_vm *vm, void *arg)
{
	struct shim_cocon *c = vm->cocon;
	uint8_t buf[4096];
	ssize_t n;

	(void)arg;
	do
		n = read(c->in_fd, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		if (send_input(vm, buf, (size_t)n))
			shim_kill_guest(vm, "cocon: out of memory");
		if (++c->queued >= COCON_IN_QUEUE && !c->paused) {
			c->paused = true;
			shim_watch_pause(vm, c->in_fd, true);
			vm->stats.backpressure_waits++;
		}
		return;
	}
	if (n < 0 && errno == EAGAIN)
		return;
	shim_unwatch_fd(vm, c->in_fd);
	if (c->kind == COCON_UNIX) { /* the client may still read our output */
		shutdown(c->in_fd, SHUT_RD);
	} else if (c->kind == COCON_PTY) {
		close(c->in_fd);
		c->out_fd = c->log_fd = -1;
	}
	c->in_fd = -1;
	if (!c->eof_sent && send_eof(vm))
		shim_kill_guest(vm, "cocon: out of memory");
}
