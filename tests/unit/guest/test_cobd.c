/* SPDX-License-Identifier: MIT */
/*
 * test_cobd.c - the guest's block driver (guest/drivers/cobd.c) against a
 * pretend host with a scripted faulty transport: dropped, duplicated, late
 * and corrupted replies, -EBADMSG and short transfers.  Checks the retry
 * rules (same id, at most 5 retries), the counters, `nocrc`, splitting
 * into 1 MiB requests and the driver's own refusals.  The clock is fake:
 * a thread blocked until a deadline finds the clock there when it wakes.
 * Run: ctest --test-dir build -R test_cobd --output-on-failure
 */
#include <check.h>

#include "unit.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "defs.h"

#define UNIT_RW 0
#define UNIT_RO 3
#define IMG_SIZE (4u << 20) /* bytes of each pretend unit */
#define MAX_SENT 64
#define SCRIPT_LEN 16

/* What the pretend transport does with the n-th request message. */
enum act {
	ACT_OK,       /* serve it, reply once */
	ACT_DROP,     /* lose the request: no reply */
	ACT_DUP,      /* serve it, reply twice */
	ACT_BADCRC,   /* serve it, reply with a wrong data_crc32c */
	ACT_LATE,     /* serve it, reply only when the guest waits (after its flush) */
	ACT_EBADMSG,  /* answer -EBADMSG, as a host that saw damaged write data */
	ACT_SHORT,    /* serve it, say one sector less was moved */
};

/* The pretend host and kernel around cobd.c. */
static struct coop_passage *pass;
static uint8_t *img;                 /* unit UNIT_RW's bytes */
static struct coop_msg_hdr sent_hdr[MAX_SENT]; /* request messages, in order */
static struct coop_cobd_request sent[MAX_SENT];
static unsigned int nsent;           /* entries in sent[] */
static unsigned int queued;          /* sent but not flushed yet */
static enum act script[SCRIPT_LEN];  /* what to do with request message i */
static enum act script_rest;         /* ... and with those after the script */
static bool held;                    /* a late reply waits for block_until() */
static struct coop_msg_hdr held_hdr; /* its header */
static struct coop_cobd_reply held_rep; /* and payload */
static uint64_t now_ns;              /* the fake clock */
static uint64_t waits;               /* block_until() calls */
static uint64_t first_deadline;      /* deadline of the first block_until() */
static const char *opt_timeout;      /* cmdline cobd_timeout_ms, or NULL */
static bool opt_nocrc;               /* cmdline nocrc */
static uint32_t vif = 1;
static struct coop_mon_failed gave_up[4]; /* the driver's failure reports */
static unsigned int ngave_up;

struct coop_passage *passage(void)
{
	return pass;
}

uint32_t irq_save(void)
{
	uint32_t old = vif;

	vif = 0;
	return old;
}

void irq_restore(uint32_t flags)
{
	vif = flags;
}

void printk(const char *fmt, ...)
{
	(void)fmt;
}

int fmt_bytes(char *buf, size_t size, uint64_t bytes)
{
	return snprintf(buf, size, "%llu B", (unsigned long long)bytes);
}

int kstrtou64(const char *s, unsigned int base, uint64_t *out)
{
	char *end;

	*out = strtoull(s, &end, (int)base);
	return *s && !*end ? 0 : -EINVAL;
}

const char *cmdline_get(const char *key)
{
	if (!strcmp(key, "cobd_timeout_ms"))
		return opt_timeout;
	if (!strcmp(key, "nocrc"))
		return opt_nocrc ? "" : NULL;
	return NULL;
}

void virq_register(unsigned int vector, virq_handler_fn *fn)
{
	ck_assert_uint_eq(vector, COOP_VEC_COBD);
	ck_assert_ptr_nonnull(fn);
}

void msg_drain(void)
{
}

void wakeup(const void *chan)
{
	(void)chan;
}

void block(const void *chan)
{
	(void)chan;
	ck_abort_msg("block(): all slots busy in a one-thread test");
}

uint64_t clock_ns(void)
{
	return now_ns;
}

void panic_at(const char *file, int line, const char *fmt, ...)
{
	ck_abort_msg("panic at %s:%d: %s", file, line, fmt);
	abort();
}

/* Hand one reply to the driver as msg.c would (vif = 0). */
static int deliver(const struct coop_msg_hdr *h, const struct coop_cobd_reply *r)
{
	uint32_t f = irq_save();
	int err = cobd_receive(h, r);

	irq_restore(f);
	return err;
}

/* What a correct host does with one request. */
static struct coop_cobd_reply serve(const struct coop_msg_hdr *h, const struct coop_cobd_request *r)
{
	struct coop_cobd_reply rep = { .op = r->op };
	bool crc = !(r->flags & COOP_COBD_F_NODATACRC);
	uint8_t *buf = (uint8_t *)(uintptr_t)r->addr;

	if (r->op == COOP_COBD_FLUSH)
		return rep;
	ck_assert_uint_eq(h->unit, UNIT_RW);
	ck_assert_uint_le(r->length, COOP_COBD_MAX_IO);
	ck_assert_uint_le(r->offset + r->length, IMG_SIZE);
	if (r->op == COOP_COBD_WRITE) {
		if (crc)
			ck_assert_uint_eq(crc32c(0, buf, r->length), r->data_crc32c);
		memcpy(img + r->offset, buf, r->length);
	} else {
		memcpy(buf, img + r->offset, r->length);
		if (crc)
			rep.data_crc32c = crc32c(0, buf, r->length);
	}
	rep.length = r->length;
	return rep;
}

/* The transport and host for request message @i. */
static void transport(unsigned int i)
{
	enum act a = i < SCRIPT_LEN ? script[i] : script_rest;
	struct coop_msg_hdr h = sent_hdr[i];
	struct coop_cobd_reply rep;

	if (a == ACT_DROP)
		return;
	rep = serve(&h, &sent[i]);
	h.type = COOP_COBD_REPLY;
	h.length = sizeof(rep);
	if (a == ACT_BADCRC)
		rep.data_crc32c ^= 1;
	if (a == ACT_EBADMSG)
		rep = (struct coop_cobd_reply){ .op = sent[i].op, .status = -EBADMSG };
	if (a == ACT_SHORT)
		rep.length -= COOP_COBD_SECTOR;
	if (a == ACT_LATE) {
		held = true;
		held_hdr = h;
		held_rep = rep;
		return;
	}
	ck_assert_int_eq(deliver(&h, &rep), 0);
	if (a == ACT_DUP)
		ck_assert_int_eq(deliver(&h, &rep), 0);
}

int msg_send_seq(uint16_t device, uint16_t unit, uint16_t type, uint64_t seq, uint16_t flags,
		 const void *payload, size_t len)
{
	ck_assert_uint_eq(vif, 0);
	ck_assert_uint_eq(device, COOP_DEV_COBD);
	ck_assert_uint_eq(type, COOP_COBD_REQUEST);
	ck_assert_uint_eq(len, sizeof(struct coop_cobd_request));
	ck_assert_uint_lt(nsent, MAX_SENT);
	sent_hdr[nsent] = (struct coop_msg_hdr){ .device = device, .unit = unit, .type = type,
						 .flags = flags, .length = (uint32_t)len,
						 .seq = seq };
	memcpy(&sent[nsent++], payload, len);
	queued++;
	return 0;
}

/* The only other message the driver sends: it gave up on a request. */
int msg_send(uint16_t device, uint16_t unit, uint16_t type, const void *payload, size_t len)
{
	ck_assert_uint_eq(device, COOP_DEV_MONITOR);
	ck_assert_uint_eq(unit, 0);
	ck_assert_uint_eq(type, COOP_MON_FAILED);
	ck_assert_uint_eq(len, sizeof(gave_up[0]));
	ck_assert_uint_lt(ngave_up, 4);
	memcpy(&gave_up[ngave_up++], payload, len);
	return 0;
}

int msg_flush(void)
{
	unsigned int first = nsent - queued;

	queued = 0;
	for (unsigned int i = first; i < nsent; i++)
		transport(i);
	return 0;
}

/* The thread waits: a late reply arrives, or the clock reaches the deadline. */
void block_until(const void *chan, uint64_t deadline)
{
	(void)chan;
	ck_assert_uint_eq(vif, 0);
	if (!waits++)
		first_deadline = deadline;
	if (held) {
		held = false;
		now_ns += 1000;
		ck_assert_int_eq(deliver(&held_hdr, &held_rep), 0);
		return;
	}
	ck_assert_uint_gt(deadline, now_ns);
	now_ns = deadline;
}

static void boot(void)
{
	struct coop_boot_params *b = &pass->boot;

	pass->hdr.host_minor = 2;
	b->ndevs = 3;
	b->devs[0] = (struct coop_boot_dev){ .device = COOP_DEV_COBD, .unit = UNIT_RO,
					     .flags = COOP_COBD_F_RO, .size = IMG_SIZE };
	b->devs[1] = (struct coop_boot_dev){ .device = COOP_DEV_CONET, .unit = 0 };
	b->devs[2] = (struct coop_boot_dev){ .device = COOP_DEV_COBD, .unit = UNIT_RW,
					     .size = IMG_SIZE };
	cobd_init();
}

static void setup(void)
{
	pass = calloc(1, sizeof(*pass));
	img = malloc(IMG_SIZE);
	ck_assert(pass && img);
	for (size_t i = 0; i < IMG_SIZE; i++)
		img[i] = (uint8_t)(i * 7 + i / 4096);
	now_ns = 1000000000;
	boot();
}

static void teardown(void)
{
	free(pass);
	free(img);
}

static struct cobd_stats stats(void)
{
	struct cobd_stats s;

	cobd_get_stats(&s);
	return s;
}

/* ---- the tests ----------------------------------------------------------- */

START_TEST(test_probe)
{
	struct cobd_unit_info u;
	uint16_t units[8];

	ck_assert_uint_eq(cobd_list(units, 8), 2);
	ck_assert_uint_eq(units[0], UNIT_RW); /* sorted by unit number */
	ck_assert_uint_eq(units[1], UNIT_RO);
	ck_assert_int_eq(cobd_info(UNIT_RO, &u), 0);
	ck_assert(u.ro);
	ck_assert_uint_eq(u.size, IMG_SIZE);
	ck_assert_int_eq(cobd_info(1, &u), -ENODEV);
	ck_assert_uint_eq(cobd_timeout_ms(), 200);
	ck_assert(!cobd_nocrc());
}
END_TEST

START_TEST(test_roundtrip)
{
	uint8_t buf[4096], back[4096];

	memset(buf, 0xa5, sizeof(buf));
	ck_assert_int_eq(cobd_write(UNIT_RW, 8192, buf, sizeof(buf)), 0);
	ck_assert_mem_eq(img + 8192, buf, sizeof(buf));
	ck_assert_int_eq(cobd_read(UNIT_RW, 4096, back, sizeof(back)), 0);
	ck_assert_mem_eq(back, img + 4096, sizeof(back));
	ck_assert_int_eq(cobd_flush(UNIT_RW), 0);
	ck_assert_uint_eq(nsent, 3);
	ck_assert_uint_ne(sent_hdr[0].seq, sent_hdr[1].seq); /* a fresh id per request */
	ck_assert_uint_ne(sent_hdr[1].seq, sent_hdr[2].seq);
	ck_assert_uint_eq(sent_hdr[0].flags, 0);
	ck_assert_uint_eq(sent[0].addr, (uint64_t)(uintptr_t)buf);
	ck_assert_uint_eq(sent[0].data_crc32c, crc32c(0, buf, sizeof(buf)));
	ck_assert_uint_eq(sent[2].op, COOP_COBD_FLUSH);
	ck_assert_uint_eq(stats().requests, 3);
	ck_assert_uint_eq(stats().retries, 0);
	ck_assert_uint_eq(stats().bytes_read, 4096);
	ck_assert_uint_eq(stats().bytes_written, 4096);
	ck_assert_uint_eq(vif, 1);
}
END_TEST

/* A lost request times out after the default 200 ms and goes again with the same id. */
START_TEST(test_drop_once)
{
	uint8_t buf[512];

	script[0] = ACT_DROP;
	ck_assert_int_eq(cobd_read(UNIT_RW, 0, buf, sizeof(buf)), 0);
	ck_assert_mem_eq(buf, img, sizeof(buf));
	ck_assert_uint_eq(nsent, 2);
	ck_assert_uint_eq(sent_hdr[0].seq, sent_hdr[1].seq);
	ck_assert_uint_eq(first_deadline, 1000000000 + 200 * 1000000ull);
	ck_assert_uint_eq(stats().timeouts, 1);
	ck_assert_uint_eq(stats().retries, 1);
	ck_assert_uint_eq(stats().errors, 0);
}
END_TEST

START_TEST(test_drop_always)
{
	uint8_t buf[512];

	script_rest = ACT_DROP;
	for (int i = 0; i < SCRIPT_LEN; i++)
		script[i] = ACT_DROP;
	ck_assert_int_eq(cobd_read(UNIT_RW, 0, buf, sizeof(buf)), -ETIMEDOUT);
	ck_assert_uint_eq(nsent, 6); /* one attempt and five retries */
	for (unsigned int i = 1; i < nsent; i++)
		ck_assert_uint_eq(sent_hdr[i].seq, sent_hdr[0].seq);
	ck_assert_uint_eq(stats().timeouts, 6);
	ck_assert_uint_eq(stats().retries, 5);
	ck_assert_uint_eq(stats().errors, 1);
	ck_assert_uint_eq(vif, 1);
	/* The host hears that this request failed for good. */
	ck_assert_uint_eq(ngave_up, 1);
	ck_assert_uint_eq(gave_up[0].seq, sent_hdr[0].seq);
	ck_assert_uint_eq(gave_up[0].device, COOP_DEV_COBD);
	ck_assert_uint_eq(gave_up[0].unit, UNIT_RW);
	ck_assert_int_eq(gave_up[0].error, -ETIMEDOUT);
}
END_TEST

START_TEST(test_bad_data_crc)
{
	uint8_t buf[1024];

	script[0] = ACT_BADCRC;
	ck_assert_int_eq(cobd_read(UNIT_RW, 512, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(nsent, 2);
	ck_assert_uint_eq(sent_hdr[0].seq, sent_hdr[1].seq);
	ck_assert_uint_eq(stats().crc_errors, 1);
	for (int i = 0; i < SCRIPT_LEN; i++)
		script[i] = ACT_BADCRC;
	script_rest = ACT_BADCRC;
	ck_assert_int_eq(cobd_read(UNIT_RW, 512, buf, sizeof(buf)), -EIO);
	ck_assert_uint_eq(stats().crc_errors, 7);
	ck_assert_uint_eq(stats().timeouts, 0);
}
END_TEST

/* The host saw our write's data damaged: send it again. */
START_TEST(test_ebadmsg_write)
{
	uint8_t buf[512];

	memset(buf, 0x3c, sizeof(buf));
	script[0] = ACT_EBADMSG;
	ck_assert_int_eq(cobd_write(UNIT_RW, 0, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(nsent, 2);
	ck_assert_mem_eq(img, buf, sizeof(buf));
	ck_assert_uint_eq(stats().crc_errors, 1);
}
END_TEST

START_TEST(test_short_transfer)
{
	uint8_t buf[1024];

	script[0] = ACT_SHORT;
	ck_assert_int_eq(cobd_read(UNIT_RW, 0, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(nsent, 2);
}
END_TEST

/* A duplicate reply is counted and ignored; so is one for a finished request. */
START_TEST(test_duplicates)
{
	struct coop_cobd_reply rep = { .op = COOP_COBD_READ, .length = 512 };
	uint8_t buf[512];

	script[0] = ACT_DUP;
	ck_assert_int_eq(cobd_read(UNIT_RW, 0, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(stats().duplicates, 1);
	ck_assert_int_eq(deliver(&(struct coop_msg_hdr){ .unit = UNIT_RW, .type = COOP_COBD_REPLY,
						 .length = sizeof(rep),
						 .seq = sent_hdr[0].seq }, &rep), 0);
	ck_assert_uint_eq(stats().duplicates, 2);
	ck_assert_uint_eq(nsent, 1);
}
END_TEST

/* A reply that comes after the flush (the thread blocks for it) is taken. */
START_TEST(test_late_reply)
{
	uint8_t buf[512];

	script[0] = ACT_LATE;
	ck_assert_int_eq(cobd_read(UNIT_RW, 1024, buf, sizeof(buf)), 0);
	ck_assert_mem_eq(buf, img + 1024, sizeof(buf));
	ck_assert_uint_eq(nsent, 1);
	ck_assert_uint_eq(waits, 1);
	ck_assert_uint_eq(stats().timeouts, 0);
}
END_TEST

/* Replies that do not fit their request are refused, not taken. */
START_TEST(test_bad_replies)
{
	struct coop_cobd_reply rep = { 0 };
	struct coop_msg_hdr h = { .type = COOP_COBD_REPLY, .length = sizeof(rep) };

	ck_assert_int_eq(deliver(&(struct coop_msg_hdr){ .type = 9, .length = sizeof(rep) }, &rep),
			 -EPROTO);
	ck_assert_int_eq(deliver(&(struct coop_msg_hdr){ .type = COOP_COBD_REPLY, .length = 8 },
				 &rep), -EPROTO);
	ck_assert_int_eq(deliver(&h, &rep), 0); /* id 0: nobody waits */
	ck_assert_uint_eq(stats().duplicates, 1);
}
END_TEST

START_TEST(test_refusals)
{
	uint8_t buf[1024] = { 0 };

	ck_assert_int_eq(cobd_write(UNIT_RO, 0, buf, 512), -EROFS);
	ck_assert_int_eq(cobd_read(UNIT_RW, 100, buf, 512), -EINVAL);
	ck_assert_int_eq(cobd_read(UNIT_RW, 0, buf, 100), -EINVAL);
	ck_assert_int_eq(cobd_read(UNIT_RW, IMG_SIZE, buf, 512), -EINVAL);
	ck_assert_int_eq(cobd_read(UNIT_RW, IMG_SIZE - 512, buf, 1024), -EINVAL);
	ck_assert_int_eq(cobd_read(UNIT_RW, UINT64_MAX - 511, buf, 1024), -EINVAL);
	ck_assert_int_eq(cobd_read(7, 0, buf, 512), -ENODEV);
	ck_assert_int_eq(cobd_flush(7), -ENODEV);
	ck_assert_int_eq(cobd_read(UNIT_RW, 0, buf, 0), 0);
	ck_assert_uint_eq(nsent, 0); /* none of it reached the host */
}
END_TEST

/* 2.5 MiB in requests of at most 1 MiB, in order, each with its own id. */
START_TEST(test_split)
{
	size_t len = 5u << 19;
	uint8_t *buf = malloc(len);

	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(cobd_read(UNIT_RW, 512, buf, len), 0);
	ck_assert_mem_eq(buf, img + 512, len);
	ck_assert_uint_eq(nsent, 3);
	ck_assert_uint_eq(sent[0].length, COOP_COBD_MAX_IO);
	ck_assert_uint_eq(sent[1].offset, 512 + COOP_COBD_MAX_IO);
	ck_assert_uint_eq(sent[2].length, len - 2 * COOP_COBD_MAX_IO);
	ck_assert_uint_eq(sent[2].addr, (uint64_t)(uintptr_t)buf + 2 * COOP_COBD_MAX_IO);
	ck_assert_uint_ne(sent_hdr[0].seq, sent_hdr[2].seq);
	free(buf);
}
END_TEST

/* nocrc: no CRCs anywhere, no retries - corruption escapes, a loss is final. */
START_TEST(test_nocrc)
{
	uint8_t buf[512];
	uint64_t sent_at;

	memset(pass, 0, sizeof(*pass));
	opt_nocrc = true;
	opt_timeout = "50";
	boot(); /* again, with the new command line */
	ck_assert(cobd_nocrc());
	ck_assert_uint_eq(cobd_timeout_ms(), 50);
	memset(buf, 0x11, sizeof(buf));
	script[1] = ACT_BADCRC;
	script[2] = ACT_DROP;
	ck_assert_int_eq(cobd_write(UNIT_RW, 0, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(sent_hdr[0].flags, COOP_MSG_F_NOCRC);
	ck_assert_uint_eq(sent[0].flags, COOP_COBD_F_NODATACRC);
	ck_assert_uint_eq(sent[0].data_crc32c, 0);
	ck_assert_int_eq(cobd_read(UNIT_RW, 0, buf, sizeof(buf)), 0); /* escapes */
	sent_at = now_ns;
	ck_assert_int_eq(cobd_read(UNIT_RW, 0, buf, sizeof(buf)), -ETIMEDOUT);
	ck_assert_uint_eq(nsent, 3);
	ck_assert_uint_eq(first_deadline, sent_at + 50 * 1000000ull);
	ck_assert_uint_eq(stats().retries, 0);
	ck_assert_uint_eq(stats().crc_errors, 0);
}
END_TEST

START_TEST(test_bad_timeout)
{
	memset(pass, 0, sizeof(*pass));
	opt_timeout = "0";
	boot();
	ck_assert_uint_eq(cobd_timeout_ms(), 200);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("guest cobd");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_probe);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_drop_once);
	tcase_add_test(tc, test_drop_always);
	tcase_add_test(tc, test_bad_data_crc);
	tcase_add_test(tc, test_ebadmsg_write);
	tcase_add_test(tc, test_short_transfer);
	tcase_add_test(tc, test_duplicates);
	tcase_add_test(tc, test_late_reply);
	tcase_add_test(tc, test_bad_replies);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_split);
	tcase_add_test(tc, test_nocrc);
	tcase_add_test(tc, test_bad_timeout);
	suite_add_tcase(s, tc);
	return s;
}

