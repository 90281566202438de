/* SPDX-License-Identifier: MIT */
/*
 * cobd.c - the block driver: units from the boot device table; a request
 * is one COOP_COBD_REQUEST naming a guest buffer, answered by a REPLY with
 * its id (COOP_VEC_COBD).  Data CRC32C, timeouts, retries with the same id
 * and duplicate suppression, all off with `nocrc`.  Try: blk info; stats
 */
#include "defs.h"

#define COBD_SLOTS 16                /* requests in flight at most */
#define COBD_RETRIES 5               /* times a request is sent again */
#define COBD_TIMEOUT_MS_DEFAULT 200  /* per attempt; cmdline cobd_timeout_ms=N */
#define COBD_TIMEOUT_MS_MAX 3600000  /* an hour: beyond that, a typo */

/* Where a request slot is. */
enum cobd_slot_state {
	SLOT_FREE,    /* unused */
	SLOT_WAITING, /* sent (maybe again), no acceptable reply yet */
	SLOT_DONE,    /* a reply arrived: the owner looks at it */
	SLOT_BUSY,    /* owned, between two attempts: replies are not wanted */
};

/* One request in flight, shared by its thread and the vIRQ handler (vif = 0). */
struct cobd_slot {
	enum cobd_slot_state state;   /* SLOT_* */
	uint64_t id;                  /* the request id: hdr.seq both ways */
	uint16_t unit;                /* cobdN it is for */
	uint32_t op;                  /* COOP_COBD_*: a reply must say the same */
	struct coop_cobd_reply reply; /* the accepted reply, once SLOT_DONE */
};

/* Counters change in threads and in the vIRQ handler: one read-modify-write each. */
#define COBD_COUNT(field, n) __atomic_fetch_add(&cobd.stats.field, (n), __ATOMIC_RELAXED)

static struct {
	struct cobd_unit_info units[COBD_MAX_UNITS]; /* from boot.devs[], by unit number */
	unsigned int nunits;            /* valid entries in units[] */
	struct cobd_slot slots[COBD_SLOTS]; /* requests in flight */
	uint64_t next_id;               /* last request id handed out */
	uint64_t timeout_ns;            /* per attempt */
	uint32_t max_io;                /* bytes per request: cmdline cobd_max_kib=N */
	bool nocrc;                     /* cmdline nocrc: no protection at all */
	struct cobd_stats stats;        /* for `stats` */
} cobd;

/* ---- units --------------------------------------------------------------- */

static const struct cobd_unit_info *cobd_unit(unsigned int unit)
{
	unsigned int i;

	for (i = 0; i < cobd.nunits; i++)
		if (cobd.units[i].unit == unit)
			return &cobd.units[i];
	return NULL;
}

int cobd_info(unsigned int unit, struct cobd_unit_info *info)
{
	const struct cobd_unit_info *u = cobd_unit(unit);

	if (!u)
		return -ENODEV;
	*info = *u;
	return 0;
}

/* The unit numbers, in ascending order, into @units[@max]; returns how many there are. */
unsigned int cobd_list(uint16_t *units, unsigned int max)
{
	unsigned int i;

	for (i = 0; i < cobd.nunits && i < max; i++)
		units[i] = cobd.units[i].unit;
	return cobd.nunits;
}

/* Keep units[] sorted by unit number: `blk info` lists them so. */
static void cobd_add_unit(const struct coop_boot_dev *d)
{
	struct cobd_unit_info u = {
		.unit = d->unit,
		.ro = d->flags & COOP_COBD_F_RO,
		.size = ALIGN_DOWN(d->size, (uint64_t)COOP_COBD_SECTOR),
	};
	unsigned int i = cobd.nunits;

	if (cobd_unit(d->unit) || cobd.nunits == COBD_MAX_UNITS) {
		printk("cobd%u: listed twice or too many units, ignored", d->unit);
		return;
	}
	if (u.size != d->size)
		printk("cobd%u: size %llu is not a multiple of %u, using %llu", d->unit,
		       (unsigned long long)d->size, COOP_COBD_SECTOR, (unsigned long long)u.size);
	while (i && cobd.units[i - 1].unit > u.unit) {
		cobd.units[i] = cobd.units[i - 1];
		i--;
	}
	cobd.units[i] = u;
	cobd.nunits++;
}

/* ---- replies (vIRQ side) ------------------------------------------------- */

static struct cobd_slot *slot_waiting(uint64_t id)
{
	struct cobd_slot *s;

	for (s = cobd.slots; s < cobd.slots + COBD_SLOTS; s++)
		if (s->state == SLOT_WAITING && s->id == id)
			return s;
	return NULL;
}

/*
 * A COOP_COBD_REPLY (msg.c calls this while draining, vif = 0).  A reply
 * nobody waits for - a duplicate, or a late one for a finished request -
 * is counted and dropped: ids are never reused, so it cannot be mistaken
 * for another request's.  A reply that does not fit its request is
 * refused (msg.c counts it as bad); the request then times out and is
 * sent again.
 */
int cobd_receive(const struct coop_msg_hdr *hdr, const void *payload)
{
	struct coop_cobd_reply r;
	struct cobd_slot *s;

	if (hdr->type != COOP_COBD_REPLY || hdr->length != sizeof(r))
		return -EPROTO;
	memcpy(&r, payload, sizeof(r));
	s = slot_waiting(hdr->seq);
	if (!s) {
		COBD_COUNT(duplicates, 1);
		return 0;
	}
	if (hdr->unit != s->unit || r.op != s->op)
		return -EPROTO;
	s->reply = r;
	s->state = SLOT_DONE;
	wakeup(s);
	return 0;
}

/* COOP_VEC_COBD: replies are in to_guest; cobd_receive() wakes their threads. */
static void cobd_irq(unsigned int vector)
{
	(void)vector;
	COBD_COUNT(irqs, 1);
	msg_drain();
}

/* ---- requests (thread side) ---------------------------------------------- */

/* A free slot with a fresh id, owned by the caller (SLOT_BUSY); vif = 0. */
static struct cobd_slot *slot_get(unsigned int unit, uint32_t op)
{
	struct cobd_slot *s;

	for (;;) {
		for (s = cobd.slots; s < cobd.slots + COBD_SLOTS; s++)
			if (s->state == SLOT_FREE) {
				*s = (struct cobd_slot){ .state = SLOT_BUSY, .id = ++cobd.next_id,
							 .unit = (uint16_t)unit, .op = op };
				return s;
			}
		block(cobd.slots); /* slot_put() wakes us */
	}
}

static void slot_put(struct cobd_slot *s)
{
	uint32_t f = irq_save();

	s->state = SLOT_FREE;
	wakeup(cobd.slots);
	irq_restore(f);
}

/*
 * Send @req under the slot's id and wait for a reply or the timeout,
 * blocked (the idle thread's timed COOP_OP_IDLE or the tick wakes us).
 * 0: s->reply is the answer; -ETIMEDOUT; or the host's refusal of the
 * message operation.  The slot stays SLOT_WAITING from the send until a
 * reply comes, so a late answer to an earlier attempt is as good.
 */
static int cobd_attempt(struct cobd_slot *s, const struct coop_cobd_request *req)
{
	uint16_t mflags = cobd.nocrc ? COOP_MSG_F_NOCRC : 0;
	uint32_t f = irq_save();
	uint64_t deadline;
	int err;

	s->state = SLOT_WAITING;
	err = msg_send_seq(COOP_DEV_COBD, s->unit, COOP_COBD_REQUEST, s->id, mflags, req,
			   sizeof(*req));
	if (!err)
		err = msg_flush(); /* the reply often comes back in this very hypercall */
	deadline = clock_ns() + cobd.timeout_ns;
	while (!err && s->state == SLOT_WAITING && clock_ns() < deadline)
		block_until(s, deadline);
	if (!err && s->state != SLOT_DONE)
		err = -ETIMEDOUT;
	s->state = SLOT_BUSY;
	irq_restore(f);
	return err;
}

/*
 * Judge an attempt: 0 done, > 0 worth another attempt (the error to
 * report if none is left), < 0 a final error.
 */
static int cobd_judge(int err, const struct cobd_slot *s, const struct coop_cobd_request *req,
		      const void *buf)
{
	const struct coop_cobd_reply *r = &s->reply;
	bool check = !cobd.nocrc && req->op == COOP_COBD_READ;

	if (err == -ETIMEDOUT) {
		COBD_COUNT(timeouts, 1);
		return ETIMEDOUT;
	}
	if (err)
		return err;
	if (r->status == -EBADMSG) { /* the host saw our write's data damaged */
		COBD_COUNT(crc_errors, 1);
		return EIO;
	}
	if (r->status == -EIO)
		return EIO; /* a media error may be transient: try again, as Linux's block layer does */
	if (r->status)
		return r->status > 0 ? -EPROTO : r->status;
	if (r->length != req->length)
		return EIO; /* a short transfer: try again */
	if (check && crc32c(0, buf, req->length) != r->data_crc32c) {
		COBD_COUNT(crc_errors, 1);
		return EIO;
	}
	return 0;
}

/* The request's data CRC, addresses and flags. */
static struct coop_cobd_request cobd_prepare(uint32_t op, uint64_t offset, const void *buf,
					     uint32_t len)
{
	struct coop_cobd_request req = {
		.op = op,
		.flags = cobd.nocrc ? COOP_COBD_F_NODATACRC : 0,
		.offset = offset,
		.length = len,
		.addr = (uint64_t)(uintptr_t)buf,
	};

	if (op == COOP_COBD_WRITE && !cobd.nocrc)
		req.data_crc32c = crc32c(0, buf, len);
	return req;
}

/*
 * Tell the host we gave up on request @id (its caller gets @err): the
 * fault layer learns that faults on it were noticed but not overcome.
 */
static void cobd_report_failure(unsigned int unit, uint64_t id, int err)
{
	struct coop_mon_failed m = { .seq = id, .device = COOP_DEV_COBD,
				     .unit = (uint16_t)unit, .error = err };

	msg_send(COOP_DEV_MONITOR, 0, COOP_MON_FAILED, &m, sizeof(m));
}

/*
 * One request of at most COOP_COBD_MAX_IO bytes, as it is: no check of
 * the extent against the unit (the host checks; the selftest needs that).
 * Retried with the same id after a timeout, a data CRC mismatch or a
 * short transfer.  0 or -errno: the host's error, -ETIMEDOUT or -EIO.
 */
int cobd_request(unsigned int unit, uint32_t op, uint64_t offset, void *buf, uint32_t len)
{
	struct coop_cobd_request req = cobd_prepare(op, offset, buf, len);
	unsigned int attempt, tries = cobd.nocrc ? 1 : 1 + COBD_RETRIES;
	struct cobd_slot *s;
	uint64_t id;
	uint32_t f;
	int r = 0;

	if (!cobd_unit(unit))
		return -ENODEV;
	if (len > COOP_COBD_MAX_IO)
		return -EINVAL;
	f = irq_save();
	s = slot_get(unit, op);
	irq_restore(f);
	COBD_COUNT(requests, 1);
	for (attempt = 0; attempt < tries; attempt++) {
		if (attempt)
			COBD_COUNT(retries, 1);
		r = cobd_judge(cobd_attempt(s, &req), s, &req, buf);
		if (r <= 0)
			break;
	}
	id = s->id;
	slot_put(s);
	if (r > 0)
		r = -r; /* out of attempts */
	if (r) {
		COBD_COUNT(errors, 1);
		cobd_report_failure(unit, id, r);
	}
	return r;
}

/* 0 if [offset, offset + len) is whole sectors inside @unit (and writable if @write). */
static int cobd_check(unsigned int unit, uint64_t offset, size_t len, bool write)
{
	const struct cobd_unit_info *u = cobd_unit(unit);

	if (!u)
		return -ENODEV;
	if (offset % COOP_COBD_SECTOR || len % COOP_COBD_SECTOR || offset > u->size ||
	    len > u->size - offset)
		return -EINVAL;
	if (write && u->ro)
		return -EROFS;
	return 0;
}

/* Move @len bytes in requests of at most cobd.max_io (<= COOP_COBD_MAX_IO). */
static int cobd_rw(unsigned int unit, uint32_t op, uint64_t offset, uint8_t *buf, size_t len)
{
	uint32_t chunk, max = cobd.max_io ? cobd.max_io : COOP_COBD_MAX_IO;
	int err;

	err = cobd_check(unit, offset, len, op == COOP_COBD_WRITE);
	while (!err && len) {
		chunk = len > max ? max : (uint32_t)len;
		err = cobd_request(unit, op, offset, buf, chunk);
		if (!err && op == COOP_COBD_READ)
			COBD_COUNT(bytes_read, chunk);
		else if (!err)
			COBD_COUNT(bytes_written, chunk);
		offset += chunk;
		buf += chunk;
		len -= chunk;
	}
	return err;
}

/* Read @len bytes at byte @offset of cobd@unit into @buf: 0 or -errno. */
int cobd_read(unsigned int unit, uint64_t offset, void *buf, size_t len)
{
	return cobd_rw(unit, COOP_COBD_READ, offset, buf, len);
}

/* Write @len bytes from @buf at byte @offset of cobd@unit: 0 or -errno. */
int cobd_write(unsigned int unit, uint64_t offset, const void *buf, size_t len)
{
	return cobd_rw(unit, COOP_COBD_WRITE, offset, (uint8_t *)(uintptr_t)buf, len);
}

/* Make what was written to cobd@unit durable on the host: 0 or -errno. */
int cobd_flush(unsigned int unit)
{
	return cobd_request(unit, COOP_COBD_FLUSH, 0, NULL, 0);
}

/* ---- set-up and counters ------------------------------------------------- */

/* cobd_timeout_ms=N from the command line, or the default with a warning. */
static uint64_t cobd_cmdline_timeout_ms(void)
{
	const char *s = cmdline_get("cobd_timeout_ms");
	uint64_t ms;

	if (!s)
		return COBD_TIMEOUT_MS_DEFAULT;
	if (kstrtou64(s, 10, &ms) || !ms || ms > COBD_TIMEOUT_MS_MAX) {
		printk("cobd: cobd_timeout_ms=%s is not 1..%u, using %u", s, COBD_TIMEOUT_MS_MAX,
		       COBD_TIMEOUT_MS_DEFAULT);
		return COBD_TIMEOUT_MS_DEFAULT;
	}
	return ms;
}

/*
 * cobd_max_kib=N: split I/O into requests of at most N KiB (4..1024; a
 * fault experiment wants many small messages).  Default and bound: 1 MiB.
 */
static uint32_t cobd_cmdline_max_io(void)
{
	const char *s = cmdline_get("cobd_max_kib");
	uint64_t kib;

	if (!s)
		return COOP_COBD_MAX_IO;
	if (kstrtou64(s, 10, &kib) || kib < 4 || kib > COOP_COBD_MAX_IO / 1024 || kib % 4) {
		printk("cobd: cobd_max_kib=%s is not a multiple of 4 in 4..%u, using %u", s,
		       COOP_COBD_MAX_IO / 1024, COOP_COBD_MAX_IO / 1024);
		return COOP_COBD_MAX_IO;
	}
	return (uint32_t)kib * 1024;
}

static void cobd_log_unit(const struct cobd_unit_info *u)
{
	char size[24];

	fmt_bytes(size, sizeof(size), u->size);
	printk("cobd%u: %llu sectors (%s), %s", u->unit,
	       (unsigned long long)(u->size / COOP_COBD_SECTOR), size, u->ro ? "ro" : "rw");
}

/*
 * Find the units in the boot parameters' device table (ABI 1.2; an older
 * host has none) and take COOP_VEC_COBD.  Replies only ever answer our
 * requests, so this may come after msg_start().
 */
void cobd_init(void)
{
	const struct coop_passage *p = passage();
	unsigned int i, n = p->boot.ndevs;

	cobd.timeout_ns = cobd_cmdline_timeout_ms() * 1000000;
	cobd.max_io = cobd_cmdline_max_io();
	cobd.nocrc = cmdline_get("nocrc") != NULL;
	if (p->hdr.host_minor < 2)
		n = 0;
	if (n > COOP_BOOT_MAX_DEVS) {
		printk("cobd: the host lists %u devices (at most %u)", n, COOP_BOOT_MAX_DEVS);
		n = COOP_BOOT_MAX_DEVS;
	}
	for (i = 0; i < n; i++)
		if (p->boot.devs[i].device == COOP_DEV_COBD)
			cobd_add_unit(&p->boot.devs[i]);
	for (i = 0; i < cobd.nunits; i++)
		cobd_log_unit(&cobd.units[i]);
	if (cobd.nocrc && cobd.nunits)
		printk("cobd: nocrc: no data or message CRCs, no retries");
	virq_register(COOP_VEC_COBD, cobd_irq);
}

bool cobd_nocrc(void)
{
	return cobd.nocrc;
}

uint64_t cobd_timeout_ms(void)
{
	return cobd.timeout_ns / 1000000;
}

void cobd_get_stats(struct cobd_stats *st)
{
	uint32_t f = irq_save();

	*st = cobd.stats;
	irq_restore(f);
}
