/* SPDX-License-Identifier: MIT */
/*
 * msg.c - device messages through the passage's two windows.  Guest to
 * host: append, and flush (COOP_OP_MESSAGE) when full or asked; nothing is
 * dropped.  Host to guest: after every hypercall (and on a device's vIRQ),
 * check and hand each message to its device's driver; a bad one is logged
 * and counted.  Windows are touched only with vif = 0: vIRQ handlers print.
 */
#include "defs.h"

/* Drivers of host->guest messages, by COOP_DEV_*; later drivers add rows. */
static int (*const msg_handlers[COOP_DEV_COUNT])(const struct coop_msg_hdr *,
						 const void *) = {
	[COOP_DEV_COCON] = cocon_receive,
	[COOP_DEV_COBD] = cobd_receive,
	[COOP_DEV_CONET] = conet_receive,
};

#define MSG_NOTES 4     /* problems remembered while draining */
#define MSG_NOTE_LEN 96 /* bytes of each */
#define MSG_LOG_MAX 16  /* bad messages logged one by one; then only counted */

static struct {
	uint64_t seq[COOP_DEV_COUNT]; /* per-device sequence of sent messages */
	struct msg_stats stats;       /* counters for `info` and `stats` */
	char notes[MSG_NOTES][MSG_NOTE_LEN]; /* drain problems not yet logged */
	unsigned int nnotes;          /* valid entries in notes[] */
	unsigned int missed;          /* problems beyond MSG_NOTES */
	unsigned int logged;          /* problems logged so far (MSG_LOG_MAX) */
	bool reporting;               /* printk() of notes in progress */
	bool started;                 /* drivers are ready: deliver host messages */
} msg;

/*
 * From now on, hand host messages to the drivers.  Until then they wait
 * in the to_guest window (the host cannot add more: back-pressure), so
 * input that comes with the boot handshake is not lost to a driver that
 * has no memory yet.
 */
void msg_start(void)
{
	msg.started = true;
}

/* Flush the to_host window: the host consumes it and empties it. */
int msg_flush(void)
{
	struct coop_passage *p = passage();
	uint32_t flags = irq_save();
	struct coop_op_message m;
	int err = 0;

	if (p->to_host.count || p->to_host.bytes) {
		m = (struct coop_op_message){ .count = p->to_host.count };
		msg.stats.flushes++;
		err = hypercall(COOP_OP_MESSAGE, &m, sizeof(m));
	}
	irq_restore(flags);
	return err;
}

/* Messages wait in the to_host window for a flush. */
bool msg_queued(void)
{
	return READ_ONCE(passage()->to_host.count) != 0;
}

/* Make room for @need bytes in the to_host window, flushing if we must. */
static void msg_make_room(struct coop_msg_window *w, uint32_t need)
{
	int tries, err = 0;

	for (tries = 0; tries < 8; tries++) {
		if (w->bytes <= sizeof(w->data) && need <= sizeof(w->data) - w->bytes)
			return;
		err = msg_flush();
	}
	panic("msg: the host leaves the to_host window full (%u messages, %u bytes, "
	      "result %d)", w->count, w->bytes, err);
}

/*
 * Append one message of at most COOP_MSG_MAX_PAYLOAD bytes, with sequence
 * number @seq and header @flags (COOP_MSG_F_NOCRC: no CRC, for experiments
 * that want to see what corruption does when nobody checks).
 */
static void msg_put(uint16_t device, uint16_t unit, uint16_t type, uint64_t seq,
		    uint16_t flags, const void *payload, uint32_t len)
{
	struct coop_msg_window *w = &passage()->to_host;
	uint32_t size = coop_msg_size(len);
	struct coop_msg_hdr h = {
		.src = COOP_EP_GUEST,
		.dst = COOP_EP_HOST,
		.device = device,
		.unit = unit,
		.type = type,
		.flags = flags,
		.length = len,
		.seq = seq,
	};

	if (!(flags & COOP_MSG_F_NOCRC))
		h.crc32c = crc32c(crc32c(0, &h, sizeof(h)), payload, len);
	msg_make_room(w, size);
	coop_msg_append(w, &h, payload);
	msg.stats.sent++;
	msg.stats.sent_bytes += len;
}

/*
 * Queue @len payload bytes for @device/@unit as messages of @type, split
 * into pieces of at most COOP_MSG_MAX_PAYLOAD.  They reach the host at
 * the next flush (msg_flush(), or when the window is full).
 */
int msg_send(uint16_t device, uint16_t unit, uint16_t type, const void *payload,
	     size_t len)
{
	const uint8_t *p = payload;
	uint32_t chunk;

	uint32_t flags;

	if (device >= COOP_DEV_COUNT)
		panic("msg_send: no device %u", device);
	flags = irq_save(); /* the pieces stay together */
	do {
		chunk = len > COOP_MSG_MAX_PAYLOAD ? COOP_MSG_MAX_PAYLOAD : (uint32_t)len;
		msg_put(device, unit, type, msg.seq[device]++, 0, p, chunk);
		p += chunk;
		len -= chunk;
	} while (len);
	irq_restore(flags);
	return 0;
}

/*
 * Queue one message whose sequence number is the caller's (a request id:
 * a retry goes out with the same one) and whose header flags are
 * COOP_MSG_F_*.  -EMSGSIZE if @len does not fit one message.
 */
int msg_send_seq(uint16_t device, uint16_t unit, uint16_t type, uint64_t seq, uint16_t flags,
		 const void *payload, size_t len)
{
	uint32_t f;

	if (device >= COOP_DEV_COUNT)
		panic("msg_send_seq: no device %u", device);
	if (len > COOP_MSG_MAX_PAYLOAD)
		return -EMSGSIZE;
	f = irq_save();
	msg_put(device, unit, type, seq, flags, payload, (uint32_t)len);
	irq_restore(f);
	return 0;
}

/* Remember a problem found while draining; it is logged after the drain. */
__printf(1, 2) static void msg_note(const char *fmt, ...)
{
	va_list ap;

	msg.stats.bad++;
	if (msg.nnotes == MSG_NOTES) {
		msg.missed++;
		return;
	}
	va_start(ap, fmt);
	kvsnprintf(msg.notes[msg.nnotes++], MSG_NOTE_LEN, fmt, ap);
	va_end(ap);
}

/* Log the remembered problems (printk may hypercall, and so drain again). */
static void msg_report(void)
{
	char line[MSG_NOTE_LEN];
	unsigned int missed;

	if (msg.reporting)
		return;
	msg.reporting = true;
	while (msg.nnotes || msg.missed) {
		if (msg.logged >= MSG_LOG_MAX) { /* a fault experiment: the counters tell */
			msg.nnotes = msg.missed = 0;
			if (msg.logged == MSG_LOG_MAX && ++msg.logged)
				printk("msg: further bad messages from the host are counted, not "
				       "logged (`stats`)");
		} else if (msg.nnotes) {
			msg.logged++;
			memcpy(line, msg.notes[0], sizeof(line));
			memmove(msg.notes[0], msg.notes[1], --msg.nnotes * sizeof(line));
			printk("msg: %s", line);
		} else {
			missed = msg.missed;
			msg.missed = 0;
			printk("msg: and %u more bad messages from the host", missed);
		}
	}
	msg.reporting = false;
}

/* Check one host message and hand it to its driver. */
static void msg_deliver(const struct coop_msg_hdr *h, const uint8_t *payload, uint32_t i)
{
	struct coop_msg_hdr copy = *h;
	uint32_t crc;
	int err;

	if (!(h->flags & COOP_MSG_F_NOCRC)) {
		copy.crc32c = 0;
		crc = crc32c(crc32c(0, &copy, sizeof(copy)), payload, h->length);
		if (crc != h->crc32c) {
			msg_note("message %u (device %u, seq %llu): crc32c %08x, expected %08x",
				 i, h->device, (unsigned long long)h->seq, h->crc32c, crc);
			return;
		}
	}
	if (h->src != COOP_EP_HOST || h->dst != COOP_EP_GUEST) {
		msg_note("message %u: from endpoint %u to %u", i, h->src, h->dst);
		return;
	}
	if (h->device >= COOP_DEV_COUNT || !msg_handlers[h->device]) {
		msg.stats.unknown++;
		msg_note("message %u: for device %u, which has no driver", i, h->device);
		return;
	}
	err = msg_handlers[h->device](h, payload);
	if (err) {
		msg_note("message %u (device %u unit %u type %u): rejected (%d)", i,
			 h->device, h->unit, h->type, err);
		return;
	}
	msg.stats.received++;
	msg.stats.received_bytes += h->length;
}

/* Walk the to_guest window: @count messages in @bytes, checked before use. */
static void msg_walk(const struct coop_msg_window *w, uint32_t count, uint32_t bytes)
{
	struct coop_msg_hdr h;
	uint32_t i, off = 0;

	if (bytes > sizeof(w->data)) {
		msg_note("to_guest window claims %u bytes (at most %zu)", bytes,
			 sizeof(w->data));
		return;
	}
	for (i = 0; i < count; i++) {
		if (bytes - off < sizeof(h)) {
			msg_note("message %u of %u: header past the window's %u bytes", i,
				 count, bytes);
			return;
		}
		memcpy(&h, w->data + off, sizeof(h));
		if (h.length > COOP_MSG_MAX_PAYLOAD || coop_msg_size(h.length) > bytes - off) {
			msg_note("message %u of %u: length %u past the window's end", i,
				 count, h.length);
			return;
		}
		msg_deliver(&h, w->data + off + sizeof(h), i);
		off += coop_msg_size(h.length);
	}
	if (off != bytes)
		msg_note("to_guest window: %u bytes after its %u messages", bytes - off, count);
}

/* Take everything the host queued for us; after every hypercall and on device vIRQs. */
void msg_drain(void)
{
	struct coop_msg_window *w = &passage()->to_guest;
	uint32_t flags;

	if (!msg.started)
		return;
	flags = irq_save();
	if (w->count || w->bytes)
		msg_walk(w, w->count, w->bytes);
	w->count = 0;
	w->bytes = 0;
	if (msg.nnotes || msg.missed)
		msg_report();
	irq_restore(flags);
}

void msg_get_stats(struct msg_stats *st)
{
	uint32_t flags = irq_save();

	*st = msg.stats;
	irq_restore(flags);
}
