/* SPDX-License-Identifier: MIT */
/*
 * cocon.c - the console's host side, on stdio.  Guest output (WRITE) goes
 * to stdout; the guest kernel's log (LOG) to the terminal when a person is
 * at it, to stderr otherwise, so that piped stdout carries only what the
 * guest's programs print.  Input - the terminal in raw mode, piped stdin
 * line by line, or an --exec script - reaches the guest as INPUT messages
 * (with the cocon vIRQ), and EOF once.  A readable console is a host
 * interrupt: O_ASYNC makes it signal the guest thread (interrupts.c).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "core/shim.h"

struct shim_cocon {
	int in_fd;        /* console input, -1 once it ended or with --exec */
	int out_fd;       /* WRITE messages go here (-1 after a write error) */
	int log_fd;       /* LOG messages go here */
	bool interactive; /* a terminal on both ends: raw mode, guest echoes */
	char *script;     /* --exec commands as input lines, or NULL */
	size_t script_len, script_pos; /* bytes of script, bytes already sent */
	bool eof_sent;    /* COOP_COCON_EOF has been queued */
	bool async;       /* in_fd has O_ASYNC set by us (cleared at close) */
};

/* The terminal's settings before raw mode, for every way out of coop. */
static struct termios saved_tio;
static int raw_fd = -1;

static void tty_restore(void)
{
	if (raw_fd >= 0)
		tcsetattr(raw_fd, TCSAFLUSH, &saved_tio);
	raw_fd = -1;
}

static void tty_restore_and_die(int sig)
{
	tty_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * Raw enough for the guest to edit lines: no canonical mode, no echo (the
 * guest echoes).  ISIG stays on, so Ctrl-C still stops coop itself, and
 * output processing stays on so "\n" still moves to column 0.
 */
static int tty_raw(int fd)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct termios t;

	if (tcgetattr(fd, &saved_tio))
		return -errno;
	t = saved_tio;
	t.c_lflag &= ~(tcflag_t)(ICANON | ECHO | IEXTEN);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	raw_fd = fd;
	atexit(tty_restore);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], tty_restore_and_die);
	if (tcsetattr(fd, TCSAFLUSH, &t))
		return -errno;
	return 0;
}

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

int shim_cocon_open(struct shim_vm *vm, const struct shim_config *cfg, char *err, size_t errlen)
{
	struct shim_cocon *c = calloc(1, sizeof(*c));

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	vm->cocon = c;
	c->out_fd = cfg->quiet ? -1 : STDOUT_FILENO;
	c->log_fd = cfg->quiet ? -1 : STDERR_FILENO;
	c->in_fd = STDIN_FILENO;
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
	if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
		c->interactive = true;
		c->log_fd = STDOUT_FILENO;
		if (tty_raw(STDIN_FILENO))
			c->interactive = false; /* works, just without line editing */
	}
	/* Regular files are always readable: no signal, the idle loop reads them. */
	c->async = host_irq_watch_fd(c->in_fd, true) == 0;
	return 0;
}

void shim_cocon_close(struct shim_vm *vm)
{
	if (!vm->cocon)
		return;
	if (vm->cocon->async && vm->cocon->in_fd >= 0 && host_irq_watch_fd(vm->cocon->in_fd, false)) {
		/* the descriptor is going away with us anyway */
	}
	tty_restore();
	free(vm->cocon->script);
	free(vm->cocon);
	vm->cocon = NULL;
}

bool shim_cocon_interactive(const struct shim_vm *vm)
{
	return vm->cocon && vm->cocon->interactive;
}

static void write_all(int *fd, const uint8_t *buf, size_t len)
{
	while (*fd >= 0 && len) {
		ssize_t n = write(*fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*fd = -1; /* reader went away: keep running, stop writing */
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

static void cocon_from_guest(struct shim_vm *vm, const struct coop_msg_hdr *h,
			     const uint8_t *payload)
{
	struct shim_cocon *c = vm->cocon;

	switch (h->type) {
	case COOP_COCON_WRITE:
		write_all(&c->out_fd, payload, h->length);
		break;
	case COOP_COCON_LOG:
		write_all(&c->log_fd, payload, h->length);
		break;
	default:
		shim_kill_guest(vm, "cocon%u: message type %u is not one a guest sends", h->unit,
				h->type);
	}
}

const struct shim_device shim_cocon_device = {
	.name = "cocon",
	.from_guest = cocon_from_guest,
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

/* The console input descriptor to wait on, or -1 when input has ended. */
int shim_cocon_fd(const struct shim_vm *vm)
{
	return vm->cocon ? vm->cocon->in_fd : -1;
}

/*
 * Take whatever console input is there now, without blocking, and queue
 * it for the guest; at the end of input queue EOF, once.
 */
void shim_cocon_poll(struct shim_vm *vm)
{
	struct shim_cocon *c = vm->cocon;
	struct pollfd pfd = { .fd = c->in_fd, .events = POLLIN };
	uint8_t buf[4096];
	ssize_t n;

	if (c->in_fd < 0 || poll(&pfd, 1, 0) <= 0)
		return;
	do
		n = read(c->in_fd, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		if (send_input(vm, buf, (size_t)n))
			shim_kill_guest(vm, "cocon: out of memory");
		return;
	}
	if (n < 0 && errno == EAGAIN)
		return;
	/* End of input (or an error that ends it). */
	if (c->async && host_irq_watch_fd(c->in_fd, false)) {
		/* nothing more will come from it anyway */
	}
	c->async = false;
	c->in_fd = -1;
	if (!c->eof_sent && send_eof(vm))
		shim_kill_guest(vm, "cocon: out of memory");
}
