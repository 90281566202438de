// SPDX-License-Identifier: GPL-2.0
/*
 * The "coop" console: each printk line goes to the host as one
 * COOP_COCON_LOG message on cocon unit 0, and coop prints it on its
 * stderr.  Registered in coop_early_setup(), before start_kernel(), with
 * CON_PRINTBUFFER, so the whole log from the first line reaches the host.
 * Not a boot console: it stays when console=hvc0 names the terminal (the
 * user's I/O goes to coop's stdout, the kernel log to its stderr).
 */
#include <linux/console.h>
#include <linux/init.h>
#include <linux/kernel.h>

#include "coop.h"

static void coop_console_write(struct console *con, const char *s, unsigned int n)
{
	while (n) {
		u32 chunk = min_t(u32, n, COOP_MSG_MAX_PAYLOAD);

		coop_msg_send(COOP_DEV_COCON, 0, COOP_COCON_LOG, s, chunk);
		s += chunk;
		n -= chunk;
	}
	/* One line, one round trip: it is out before whatever comes next. */
	coop_msg_flush();
}

static struct console coop_console = {
	.name = "coop",
	.write = coop_console_write,
	.flags = CON_PRINTBUFFER,
	.index = -1,
};

void __init coop_console_init(void)
{
	register_console(&coop_console);
}
