// SPDX-License-Identifier: GPL-2.0
/*
 * Interrupts of a coop guest.  The guest owns its IDT: vectors 32..255 are
 * Linux's own entry stubs, so a host interrupt that hits the guest enters
 * common_interrupt() or spurious_interrupt() natively (irq stack,
 * irq_enter/irq_exit), and they call coop_host_irq(): the FORWARD
 * operation has the module replay the vector through the host's handler,
 * then the guest dispatches its pending virtual IRQs (passage->virq)
 * through the "coop" irq_domain, one Linux irq per vector.
 *
 * The host writes the to_guest window only while the guest is stopped in
 * an operation other than FORWARD; with vif and masked kept 0, a vIRQ
 * raised while nothing interrupts the guest comes in through a host
 * interrupt the module makes (its irq_work self-IPI).  The window is
 * drained with interrupts off, before the handlers run, into one queue
 * per device (coop_msg_recv()).
 */
#include <linux/bitops.h>
#include <linux/init.h>
#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/irqdomain.h>
#include <linux/kernel.h>
#include <linux/kfifo.h>
#include <linux/printk.h>
#include <asm/coop.h>
#include <asm/desc.h>
#include <asm/hw_irq.h>

#include "coop.h"

static struct irq_domain *coop_domain;

/* ---- Messages from the host ---------------------------------------------- */

/*
 * Each device's messages, header then payload, as the window held them.
 * Written in hard-IRQ context (the drain), read by its driver with
 * interrupts off: one CPU, so that is the lock.
 */
static DEFINE_KFIFO(coop_queue_cocon, u8, 16384);
static DEFINE_KFIFO(coop_queue_cobd, u8, 65536);
static DEFINE_KFIFO(coop_queue_conet, u8, 65536);
static unsigned long coop_msg_dropped, coop_msg_bad;

static struct kfifo *coop_queue(u16 device)
{
	switch (device) {
	case COOP_DEV_COCON:
		return (struct kfifo *)&coop_queue_cocon;
	case COOP_DEV_COBD:
		return (struct kfifo *)&coop_queue_cobd;
	case COOP_DEV_CONET:
		return (struct kfifo *)&coop_queue_conet;
	}
	return NULL;
}

/*
 * Queue one message for its device's driver; a full queue loses it,
 * loudly.  One damaged on the way (its CRC32C), or not from the host, is
 * dropped: its driver's request times out and is sent again.
 */
static void coop_msg_queue(const struct coop_msg_hdr *h, const u8 *payload)
{
	struct kfifo *q = coop_queue(h->device);

	if ((!(h->flags & COOP_MSG_F_NOCRC) && coop_msg_crc(h, payload) != h->crc32c) ||
	    h->src != COOP_EP_HOST || h->dst != COOP_EP_GUEST) {
		coop_msg_bad++;
		pr_warn_ratelimited("coop: dropped a damaged message for device %u seq %llu (%lu so far)\n",
				    h->device, h->seq, coop_msg_bad);
		return;
	}

	if (!q || kfifo_avail(q) < sizeof(*h) + h->length) {
		coop_msg_dropped++;
		pr_warn_ratelimited("coop: dropped a message for device %u type %u (%lu so far)\n",
				    h->device, h->type, coop_msg_dropped);
		return;
	}
	kfifo_in(q, (const u8 *)h, sizeof(*h));
	kfifo_in(q, payload, h->length);
}

/*
 * Take every message of the to_guest window, checked as guest/kernel/msg.c
 * checks them, then hand the window back empty.  Interrupts off.
 */
static void coop_msg_drain(void)
{
	struct coop_msg_window *w = &coop_passage->to_guest;
	u32 count = READ_ONCE(w->count), bytes = READ_ONCE(w->bytes);
	struct coop_msg_hdr h;
	u32 i, off = 0;

	if (!count && !bytes)
		return;
	if (bytes > sizeof(w->data)) {
		pr_warn_ratelimited("coop: to_guest window claims %u bytes\n", bytes);
		goto out;
	}
	for (i = 0; i < count; i++) {
		if (bytes - off < sizeof(h))
			break;
		memcpy(&h, w->data + off, sizeof(h));
		if (h.length > COOP_MSG_MAX_PAYLOAD || coop_msg_size(h.length) > bytes - off)
			break;
		coop_msg_queue(&h, w->data + off + sizeof(h));
		off += coop_msg_size(h.length);
	}
	if (i != count)
		pr_warn_ratelimited("coop: to_guest message %u of %u runs past the window\n", i, count);
out:
	WRITE_ONCE(w->count, 0);
	WRITE_ONCE(w->bytes, 0);
}

/*
 * The next message for @device: its header in @h, up to @len bytes of its
 * payload in @buf (the rest is dropped).  0, or -EAGAIN when none waits.
 */
/* Does a message wait for @device? */
bool coop_msg_waiting(u16 device)
{
	struct kfifo *q = coop_queue(device);

	return q && !kfifo_is_empty(q);
}

int coop_msg_recv(u16 device, struct coop_msg_hdr *h, void *buf, u32 len)
{
	struct kfifo *q = coop_queue(device);
	unsigned long flags;
	u32 n, skip;
	u8 junk[64];

	if (!q)
		return -EINVAL;
	raw_local_irq_save(flags);
	if (kfifo_out(q, (u8 *)h, sizeof(*h)) != sizeof(*h)) {
		raw_local_irq_restore(flags);
		return -EAGAIN;
	}
	n = min(h->length, len);
	if (kfifo_out(q, (u8 *)buf, n) != n)
		n = 0; /* cannot happen: the drain queues whole messages */
	for (skip = h->length - n; skip; skip -= min_t(u32, skip, sizeof(junk)))
		if (!kfifo_out(q, junk, min_t(u32, skip, sizeof(junk))))
			break;
	raw_local_irq_restore(flags);
	return 0;
}

/* ---- Virtual IRQs ---------------------------------------------------------- */

/*
 * Run the handler of every deliverable vector, highest first, each bit
 * cleared with one locked instruction (the host sets bits at any time).
 * Hard-IRQ context, interrupts off.  The window is drained again before
 * each: a handler's own operations let the host add messages.
 */
static void coop_virq_dispatch(void)
{
	struct coop_virq_state *v = &coop_passage->virq;
	int vec;

	if (!coop_domain)
		return;
	for (;;) {
		coop_msg_drain();
		vec = coop_virq_pick(v->pending, v->masked);
		if (vec < 0)
			break;
		if (!test_and_clear_bit(vec, (unsigned long *)v->pending))
			continue;
		v->delivered++;
		if (generic_handle_domain_irq(coop_domain, vec))
			pr_warn_ratelimited("coop: vIRQ %d has no handler\n", vec);
	}
}

/*
 * A host interrupt reached our IDT (common_interrupt, spurious_interrupt):
 * the host's handler runs through FORWARD, then our pending vIRQs.
 */
void coop_host_irq(unsigned int vector)
{
	struct coop_op_forward f = { .vector = vector };
	u64 t0 = coop_bench_forward_begin();

	coop_hypercall(COOP_OP_FORWARD, &f, sizeof(f));
	coop_bench_forward_end(t0);
	coop_virq_dispatch();
}

/* vIRQs need no masking or acknowledgement: the bit is cleared before the handler. */
static void coop_irq_noop(struct irq_data *d)
{
}

static struct irq_chip coop_irq_chip = {
	.name = "coop",
	.irq_mask = coop_irq_noop,
	.irq_unmask = coop_irq_noop,
};

static int coop_irq_map(struct irq_domain *d, unsigned int irq, irq_hw_number_t hw)
{
	irq_set_chip_and_handler(irq, &coop_irq_chip, handle_simple_irq);
	return 0;
}

static const struct irq_domain_ops coop_irq_ops = {
	.map = coop_irq_map,
	.xlate = irq_domain_xlate_onecell,
};

/* The Linux irq of vIRQ @vector (COOP_VEC_*), for request_irq(); 0 if none. */
unsigned int coop_virq_irq(unsigned int vector)
{
	if (!coop_domain || vector < FIRST_EXTERNAL_VECTOR || vector >= COOP_VEC_COUNT)
		return 0;
	return irq_create_mapping(coop_domain, vector);
}

/*
 * x86_init.irqs.intr_init: the irq entry stubs for 32..255 and no APIC
 * gate (a host LAPIC timer must not reach sysvec_apic_timer_interrupt:
 * idt.c leaves them out on coop), then the vIRQ domain.
 */
void __init coop_init_IRQ(void)
{
	struct coop_virq_state *v = &coop_passage->virq;

	/*
	 * vIF and the mask stay 0 for good: vIRQs come in only through our
	 * irq entry (coop_host_irq()), and the host fills the to_guest window
	 * only while we wait in an operation other than FORWARD.
	 */
	WRITE_ONCE(v->vif, 0);
	memset(v->masked, 0, sizeof(v->masked));
	idt_setup_apic_and_irq_gates();
	coop_domain = irq_domain_add_linear(NULL, COOP_VEC_COUNT, &coop_irq_ops, NULL);
	if (!coop_domain)
		panic("coop: no irq domain for the virtual IRQs");
}
