// SPDX-License-Identifier: GPL-2.0
/*
 * hvc0 of a coop guest: the terminal on cocon unit 0.  What the tty writes
 * goes to the host as COOP_COCON_WRITE messages (coop's stdout); keyboard
 * or piped input comes as COOP_COCON_INPUT messages, with the cocon vIRQ,
 * and the end of it as COOP_COCON_EOF, which becomes one ^D, so that a
 * shell reading a pipe sees its end.  The kernel log is not here: it is
 * the "coop" console (COOP_COCON_LOG, coop's stderr), and hvc0 is no
 * printk console, whatever console= says (hvc_console.c, patch 0007);
 * /init opens /dev/hvc0 itself.
 */
#include <linux/err.h>
#include <linux/init.h>
#include <linux/interrupt.h>
#include <linux/kernel.h>
#include <asm/coop.h>
#include <coop/abi.h>

#include "hvc_console.h"

#define COOP_HVC_UNIT 0

/* What is left of the input message being read. */
static u8 coop_hvc_in[COOP_MSG_MAX_PAYLOAD];
static u32 coop_hvc_in_len, coop_hvc_in_off;

static int coop_hvc_put(u32 vtermno, const char *buf, int count)
{
	int done = 0;

	while (done < count) {
		u32 n = min_t(u32, count - done, COOP_MSG_MAX_PAYLOAD);

		coop_msg_send(COOP_DEV_COCON, COOP_HVC_UNIT, COOP_COCON_WRITE, buf + done, n);
		done += n;
	}
	coop_msg_flush();
	return done;
}

/* Refill coop_hvc_in from the cocon queue; false when nothing waits. */
static bool coop_hvc_refill(void)
{
	struct coop_msg_hdr h;

	while (!coop_msg_recv(COOP_DEV_COCON, &h, coop_hvc_in, sizeof(coop_hvc_in))) {
		if (h.unit != COOP_HVC_UNIT)
			continue;
		coop_hvc_in_off = 0;
		if (h.type == COOP_COCON_INPUT && h.length) {
			coop_hvc_in_len = min_t(u32, h.length, sizeof(coop_hvc_in));
			return true;
		}
		if (h.type == COOP_COCON_EOF) {
			coop_hvc_in[0] = 0x04; /* ^D: n_tty's end of file */
			coop_hvc_in_len = 1;
			return true;
		}
	}
	return false;
}

static int coop_hvc_get(u32 vtermno, char *buf, int count)
{
	int done = 0;

	while (done < count) {
		u32 n;

		if (coop_hvc_in_off == coop_hvc_in_len && !coop_hvc_refill())
			break;
		n = min_t(u32, count - done, coop_hvc_in_len - coop_hvc_in_off);
		memcpy(buf + done, coop_hvc_in + coop_hvc_in_off, n);
		coop_hvc_in_off += n;
		done += n;
	}
	return done;
}

/* The cocon vIRQ: input is queued; hvc_poll() takes it. */
static irqreturn_t coop_hvc_interrupt(int irq, void *dev_id)
{
	if (hvc_poll(dev_id))
		hvc_kick();
	return IRQ_HANDLED;
}

static int coop_hvc_notifier_add(struct hvc_struct *hp, int irq)
{
	int err = request_irq(irq, coop_hvc_interrupt, 0, "coop-cocon", hp);

	hp->irq_requested = !err;
	return err;
}

static void coop_hvc_notifier_del(struct hvc_struct *hp, int irq)
{
	if (hp->irq_requested)
		free_irq(irq, hp);
	hp->irq_requested = 0;
}

static const struct hv_ops coop_hvc_ops = {
	.get_chars = coop_hvc_get,
	.put_chars = coop_hvc_put,
	.notifier_add = coop_hvc_notifier_add,
	.notifier_del = coop_hvc_notifier_del,
	.notifier_hangup = coop_hvc_notifier_del,
};

static int __init coop_hvc_init(void)
{
	struct hvc_struct *hp;
	unsigned int irq;

	if (!coop_guest())
		return -ENODEV;
	irq = coop_virq_irq(COOP_VEC_COCON);
	if (!irq)
		return -ENODEV;
	hp = hvc_alloc(0, irq, &coop_hvc_ops, 256);
	return PTR_ERR_OR_ZERO(hp);
}
device_initcall(coop_hvc_init);
