// SPDX-License-Identifier: GPL-2.0
/*
 * Operations on the passage (coop's hypercalls) and guest->host messages.
 * An operation: fill passage->op.code/params, op.seq++, call the host's
 * switch_to_host; the host serves it and switches back with op.result.
 * Everything here runs with interrupts off (one CPU: that is the lock),
 * and before start_kernel() too: no allocation, no printk.
 */
#include <linux/crc32.h>
#include <linux/kernel.h>
#include <linux/irqflags.h>
#include <linux/string.h>

#include "coop.h"

/* The host's switch routine (struct coop_passage_header.switch_to_host). */
typedef void coop_switch_fn(struct coop_cpu_context *save, struct coop_cpu_context *load);

/* Per-device sequence numbers of the messages we send. */
static u64 coop_msg_seq[COOP_DEV_COUNT] __section(".data");

/* Ask the host for operation @code with @len bytes of @params: its result (0 or -errno). */
int coop_hypercall(u32 code, const void *params, size_t len)
{
	struct coop_passage *p = coop_passage;
	coop_switch_fn *fn = (coop_switch_fn *)(unsigned long)p->hdr.switch_to_host;
	unsigned long flags;
	int result;

	raw_local_irq_save(flags);
	if (len > sizeof(p->op.params))
		len = sizeof(p->op.params);
	memcpy(&p->op.params, params, len);
	p->op.code = code;
	p->op.result = 0;
	p->op.seq++;
	/* The host reads and writes the passage while we are away. */
	barrier();
	fn(&p->guest, &p->host);
	barrier();
	result = READ_ONCE(p->op.result);
	raw_local_irq_restore(flags);
	return result;
}

/* The boot handshake: our ABI version, before any other operation. */
int coop_hello(void)
{
	struct coop_op_hello h = { .major = COOP_ABI_MAJOR, .minor = COOP_ABI_MINOR };

	coop_passage->hdr.guest_major = COOP_ABI_MAJOR;
	coop_passage->hdr.guest_minor = COOP_ABI_MINOR;
	return coop_hypercall(COOP_OP_HELLO, &h, sizeof(h));
}

/*
 * The PANIC operation: coop prints @msg and exits with status 3.  It does
 * not come back; if it did, we ask again rather than halt.
 */
void __noreturn coop_panic_op(const char *file, unsigned int line, const char *msg)
{
	static struct coop_op_panic pp __section(".data");

	raw_local_irq_disable();
	memset(&pp, 0, sizeof(pp));
	pp.line = line;
	strscpy(pp.file, file, sizeof(pp.file));
	strscpy(pp.message, msg, sizeof(pp.message));
	for (;;)
		coop_hypercall(COOP_OP_PANIC, &pp, sizeof(pp));
}

/* Power off: coop exits with @status (0..255). */
void __noreturn coop_terminate(int status)
{
	struct coop_op_terminate t = { .status = status };

	raw_local_irq_disable();
	coop_msg_flush();
	for (;;)
		coop_hypercall(COOP_OP_TERMINATE, &t, sizeof(t));
}

/* Hand the to_host window to the host (MESSAGE); it empties it. */
void coop_msg_flush(void)
{
	struct coop_passage *p = coop_passage;
	struct coop_op_message m;
	unsigned long flags;

	raw_local_irq_save(flags);
	if (p->to_host.count || p->to_host.bytes) {
		m = (struct coop_op_message){ .count = p->to_host.count };
		coop_hypercall(COOP_OP_MESSAGE, &m, sizeof(m));
	}
	raw_local_irq_restore(flags);
}

/*
 * Append one message (at most COOP_MSG_MAX_PAYLOAD bytes) to the to_host
 * window, flushing first if it does not fit.  Nothing is dropped: a host
 * that never makes room is a host bug, and we panic.  Its CRC32C covers
 * the header (crc32c 0) and the payload, as coop_msg_crc() checks the
 * host's: what happens to a message on the way is detected.
 */
void coop_msg_send(u16 device, u16 unit, u16 type, const void *payload, u32 len)
{
	unsigned long irqs;

	if (device >= COOP_DEV_COUNT)
		return;
	raw_local_irq_save(irqs); /* the numbers in the order of the window */
	coop_msg_send_id(device, unit, type, coop_msg_seq[device]++, 0, payload, len);
	raw_local_irq_restore(irqs);
}

/*
 * The same with the header's seq given (a request's id, which its reply
 * carries) and its flags: COOP_MSG_F_NOCRC sends it without a CRC32C.
 */
void coop_msg_send_id(u16 device, u16 unit, u16 type, u64 seq, u16 flags, const void *payload,
		      u32 len)
{
	struct coop_msg_window *w = &coop_passage->to_host;
	struct coop_msg_hdr h = {
		.src = COOP_EP_GUEST,
		.dst = COOP_EP_HOST,
		.device = device,
		.unit = unit,
		.type = type,
		.flags = flags,
		.seq = seq,
	};
	unsigned long irqs;
	u32 size;
	int tries;

	/* No WARN here: the console sends through this. */
	if (device >= COOP_DEV_COUNT)
		return;
	len = min_t(u32, len, COOP_MSG_MAX_PAYLOAD);
	h.length = len;
	size = coop_msg_size(len);
	raw_local_irq_save(irqs);
	for (tries = 0; w->bytes > sizeof(w->data) || size > sizeof(w->data) - w->bytes; tries++) {
		if (tries == 8)
			coop_panic_op(__FILE__, __LINE__,
				      "coop: the host leaves the to_host window full");
		coop_msg_flush();
	}
	if (!(flags & COOP_MSG_F_NOCRC))
		h.crc32c = coop_msg_crc(&h, payload);
	coop_msg_append(w, &h, payload);
	raw_local_irq_restore(irqs);
}

/* A message's CRC32C (zlib style): its header with crc32c 0, then its payload. */
u32 coop_msg_crc(const struct coop_msg_hdr *h, const void *payload)
{
	struct coop_msg_hdr copy = *h;
	u32 crc;

	copy.crc32c = 0;
	crc = __crc32c_le(~0u, (const u8 *)&copy, sizeof(copy));
	return ~__crc32c_le(crc, payload, h->length);
}
