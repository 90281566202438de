/* SPDX-License-Identifier: MIT */
/*
 * tty.c - the terminal the console puts into raw mode, and every way back:
 * a normal exit (atexit), a signal that ends coop, and a crash of coop
 * itself (the fault handler calls coop_tty_restore before dying).  A
 * person's shell must never be left raw.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <termios.h>

#include "util/util.h"

static struct termios saved_tio;
static volatile int raw_fd = -1;

/* Async-signal-safe: tcsetattr is. */
void coop_tty_restore(void)
{
	int fd = raw_fd;

	raw_fd = -1;
	if (fd >= 0)
		tcsetattr(fd, TCSAFLUSH, &saved_tio);
}

static void restore_and_die(int sig)
{
	coop_tty_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * Raw enough for the guest to edit lines: no canonical mode, no echo (the
 * guest echoes).  ISIG stays on, so Ctrl-C still stops coop itself, and
 * output processing stays on so "\n" still moves to column 0.  The signals
 * that end coop restore the terminal first -- only where nobody else
 * listens: when the monitor ends the guest on SIGINT/SIGTERM/SIGHUP (a
 * trace or a report must be finished), its way out restores it (atexit).
 */
int coop_tty_raw(int fd)
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
	atexit(coop_tty_restore);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction old;

		if (!sigaction(sigs[i], NULL, &old) && old.sa_handler == SIG_DFL)
			signal(sigs[i], restore_and_die);
	}
	if (tcsetattr(fd, TCSAFLUSH, &t))
		return -errno;
	return 0;
}
