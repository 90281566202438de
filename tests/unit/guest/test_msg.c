/* SPDX-License-Identifier: MIT */
/*
 * test_msg.c - the guest's message layer (guest/kernel/msg.c) against a
 * pretend host: headers, CRCs, padding, splitting, flushing when the
 * window is full, and bad host messages that must be counted, not crash.
 * Run: ctest --test-dir build -R test_msg --output-on-failure
 */
#include <check.h>

#include "unit.h"
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "defs.h"

/* The pretend host's view. */
static struct coop_passage *pass;
static uint8_t *got;           /* payload bytes the host received, in order */
static size_t got_len;         /* bytes in got */
static unsigned int flushes;   /* COOP_OP_MESSAGE operations */
static uint64_t host_seq[COOP_DEV_COUNT]; /* next seq the host expects */
static uint8_t delivered[256]; /* what cocon_receive() was given */
static size_t delivered_len;
static unsigned int printks;   /* log lines the layer wrote */
static char last_printk[256];
static jmp_buf panic_jmp;

struct coop_passage *passage(void)
{
	return pass;
}

/* What a correct host does with COOP_OP_MESSAGE: check every message, consume. */
static void host_consume(void)
{
	struct coop_msg_window *w = &pass->to_host;
	uint32_t off = 0, i;

	ck_assert_uint_eq(pass->op.params.message.count, w->count);
	for (i = 0; i < w->count; i++) {
		struct coop_msg_hdr h;
		uint32_t crc, size;
		size_t j;

		memcpy(&h, w->data + off, sizeof(h));
		ck_assert_uint_le(h.length, COOP_MSG_MAX_PAYLOAD);
		size = coop_msg_size(h.length);
		ck_assert_uint_le(off + size, w->bytes);
		ck_assert_uint_eq(h.src, COOP_EP_GUEST);
		ck_assert_uint_eq(h.dst, COOP_EP_HOST);
		ck_assert_uint_lt(h.device, COOP_DEV_COUNT);
		ck_assert_uint_eq(h.seq, host_seq[h.device]++);
		crc = h.crc32c;
		h.crc32c = 0;
		ck_assert_uint_eq(crc, crc32c(crc32c(0, &h, sizeof(h)), w->data + off + sizeof(h),
					     h.length));
		for (j = sizeof(h) + h.length; j < size; j++)
			ck_assert_uint_eq(w->data[off + j], 0);
		memcpy(got + got_len, w->data + off + sizeof(h), h.length);
		got_len += h.length;
		off += size;
	}
	ck_assert_uint_eq(off, w->bytes);
	w->count = 0;
	w->bytes = 0;
}

/* The vIF critical sections: they must nest and come back balanced. */
static uint32_t vif = 1;

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

int hypercall(uint32_t code, const void *params, size_t len)
{
	ck_assert_uint_eq(vif, 0); /* msg.c calls the host only with vif = 0 */
	ck_assert_uint_le(len, sizeof(pass->op.params));
	memcpy(&pass->op.params, params, len);
	pass->op.code = code;
	pass->op.seq++;
	if (code == COOP_OP_MESSAGE) {
		flushes++;
		host_consume();
	}
	msg_drain();
	return 0;
}

int cocon_receive(const struct coop_msg_hdr *hdr, const void *payload)
{
	if (hdr->type == 99)
		return -EPROTO;
	ck_assert_uint_le(delivered_len + hdr->length, sizeof(delivered));
	memcpy(delivered + delivered_len, payload, hdr->length);
	delivered_len += hdr->length;
	return 0;
}

/* The block driver has its row in the table; these tests never reach it. */
int cobd_receive(const struct coop_msg_hdr *hdr, const void *payload)
{
	(void)hdr;
	(void)payload;
	ck_abort_msg("cobd_receive() called");
	return -EPROTO;
}

/* The network driver has its row too; never reached either. */
int conet_receive(const struct coop_msg_hdr *hdr, const void *payload)
{
	(void)hdr;
	(void)payload;
	ck_abort_msg("conet_receive() called");
	return -EPROTO;
}

void printk(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_printk, sizeof(last_printk), fmt, ap);
	va_end(ap);
	printks++;
}

void panic_at(const char *file, int line, const char *fmt, ...)
{
	longjmp(panic_jmp, 1);
}

static void setup(void)
{
	pass = aligned_alloc(4096, sizeof(*pass));
	got = malloc(1 << 20);
	ck_assert(pass && got);
	memset(pass, 0, sizeof(*pass));
	got_len = 0;
	flushes = 0;
	delivered_len = 0;
	printks = 0;
	vif = 1;
	msg_start();
}

static void teardown(void)
{
	free(pass);
	free(got);
}

/* Fill a payload with a pattern that shows reordering. */
static void pattern(uint8_t *buf, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 31 + seed);
}

START_TEST(test_one_message)
{
	uint8_t payload[13];

	pattern(payload, sizeof(payload), 1);
	ck_assert_int_eq(msg_send(COOP_DEV_COCON, 0, COOP_COCON_WRITE, payload, 13), 0);
	ck_assert_uint_eq(pass->to_host.count, 1);
	ck_assert_uint_eq(pass->to_host.bytes, coop_msg_size(13));
	ck_assert_uint_eq(flushes, 0);
	ck_assert_int_eq(msg_flush(), 0);
	ck_assert_uint_eq(flushes, 1);
	ck_assert_uint_eq(got_len, 13);
	ck_assert_mem_eq(got, payload, 13);
	ck_assert_int_eq(msg_flush(), 0); /* nothing queued: no switch */
	ck_assert_uint_eq(flushes, 1);
	ck_assert_uint_eq(vif, 1); /* every critical section restored vif */
}
END_TEST

/* The MESSAGE operation carries the count, copied with vif = 0. */
START_TEST(test_flush_params)
{
	ck_assert(!msg_queued());
	msg_send(COOP_DEV_COCON, 0, COOP_COCON_WRITE, "ab", 2);
	msg_send(COOP_DEV_COCON, 0, COOP_COCON_LOG, "cd", 2);
	ck_assert(msg_queued());
	ck_assert_int_eq(msg_flush(), 0);
	ck_assert_uint_eq(pass->op.code, COOP_OP_MESSAGE);
	ck_assert_uint_eq(pass->op.params.message.count, 2);
	ck_assert(!msg_queued());
	ck_assert_uint_eq(vif, 1);
}
END_TEST

START_TEST(test_split_big_payload)
{
	size_t len = 3 * COOP_MSG_MAX_PAYLOAD + 100;
	uint8_t *payload = malloc(len);

	pattern(payload, len, 2);
	msg_send(COOP_DEV_COCON, 0, COOP_COCON_WRITE, payload, len);
	msg_flush();
	ck_assert_uint_eq(got_len, len);
	ck_assert_mem_eq(got, payload, len);
	ck_assert_uint_eq(host_seq[COOP_DEV_COCON], 4);
	free(payload);
}
END_TEST

/* More than a window's worth without a flush: the layer flushes by itself. */
START_TEST(test_full_window_flushes)
{
	uint8_t payload[1000], expect[200 * 1000];
	int i;

	for (i = 0; i < 200; i++) {
		pattern(payload, sizeof(payload), (unsigned int)i);
		memcpy(expect + i * 1000, payload, 1000);
		msg_send(COOP_DEV_COCON, 0, COOP_COCON_LOG, payload, sizeof(payload));
		ck_assert_uint_le(pass->to_host.bytes, sizeof(pass->to_host.data));
	}
	ck_assert_uint_ge(flushes, 200 * coop_msg_size(1000) / sizeof(pass->to_host.data));
	msg_flush();
	ck_assert_uint_eq(got_len, sizeof(expect));
	ck_assert_mem_eq(got, expect, sizeof(expect));
}
END_TEST

/* A request id and header flags of the caller's; NOCRC leaves crc32c 0. */
START_TEST(test_send_seq_flags)
{
	const struct coop_msg_hdr *h = (const void *)pass->to_host.data;
	const struct coop_msg_hdr *h2;
	struct coop_msg_hdr copy;
	uint8_t big[COOP_MSG_MAX_PAYLOAD + 1] = { 0 };

	ck_assert_int_eq(msg_send_seq(COOP_DEV_COBD, 3, 1, 0x1234567890ull, 0, "abcd", 4), 0);
	ck_assert_int_eq(msg_send_seq(COOP_DEV_COBD, 3, 1, 42, COOP_MSG_F_NOCRC, "efgh", 4), 0);
	ck_assert_int_eq(msg_send_seq(COOP_DEV_COBD, 3, 1, 43, 0, big, sizeof(big)), -EMSGSIZE);
	ck_assert_uint_eq(pass->to_host.count, 2);
	ck_assert_uint_eq(h->seq, 0x1234567890ull);
	ck_assert_uint_eq(h->unit, 3);
	ck_assert_uint_eq(h->flags, 0);
	copy = *h;
	copy.crc32c = 0;
	ck_assert_uint_eq(h->crc32c, crc32c(crc32c(0, &copy, sizeof(copy)), "abcd", 4));
	h2 = (const void *)(pass->to_host.data + coop_msg_size(4));
	ck_assert_uint_eq(h2->seq, 42);
	ck_assert_uint_eq(h2->flags, COOP_MSG_F_NOCRC);
	ck_assert_uint_eq(h2->crc32c, 0);
	ck_assert_mem_eq((const uint8_t *)(h2 + 1), "efgh", 4);
	ck_assert_uint_eq(vif, 1);
	/* the per-device sequence of msg_send() is not disturbed */
	pass->to_host.count = pass->to_host.bytes = 0;
	msg_send(COOP_DEV_COBD, 0, 1, "x", 1);
	ck_assert_uint_eq(h->seq, 0);
}
END_TEST

/* Put one host->guest message into the to_guest window. */
static void host_put(uint16_t device, uint16_t type, uint16_t flags, const void *payload,
		     uint32_t len, bool good_crc)
{
	struct coop_msg_window *w = &pass->to_guest;
	struct coop_msg_hdr h = {
		.src = COOP_EP_HOST, .dst = COOP_EP_GUEST, .device = device,
		.type = type, .flags = flags, .length = len,
	};

	h.crc32c = crc32c(crc32c(0, &h, sizeof(h)), payload, len) ^ (good_crc ? 0 : 1);
	coop_msg_append(w, &h, payload);
}

START_TEST(test_drain_good_and_bad)
{
	struct msg_stats st;

	host_put(COOP_DEV_COCON, COOP_COCON_INPUT, 0, "abc", 3, true);
	host_put(COOP_DEV_COCON, COOP_COCON_INPUT, 0, "BAD", 3, false);
	host_put(COOP_DEV_COCON, COOP_COCON_INPUT, COOP_MSG_F_NOCRC, "def", 3, false);
	host_put(COOP_DEV_MONITOR, 1, 0, "x", 1, true);
	host_put(COOP_DEV_COCON, 99, 0, "y", 1, true);
	host_put(COOP_DEV_COCON, COOP_COCON_INPUT, 0, "ghi", 3, true);
	msg_drain();
	/* the bad CRC is dropped; NOCRC skips the check; the rest arrive in order */
	ck_assert_uint_eq(delivered_len, 9);
	ck_assert_mem_eq(delivered, "abcdefghi", 9);
	ck_assert_uint_eq(pass->to_guest.count, 0);
	ck_assert_uint_eq(pass->to_guest.bytes, 0);
	msg_get_stats(&st);
	ck_assert_uint_eq(st.received, 3);
	ck_assert_uint_eq(st.bad, 3);
	ck_assert_uint_eq(st.unknown, 1);
	ck_assert_uint_eq(printks, 3);
}
END_TEST

/* Lies about sizes: counted and logged, never read past the window. */
START_TEST(test_drain_bounds)
{
	struct coop_msg_window *w = &pass->to_guest;

	host_put(COOP_DEV_COCON, COOP_COCON_INPUT, 0, "ok", 2, true);
	w->count = 5; /* more messages than bytes */
	msg_drain();
	ck_assert_uint_eq(delivered_len, 2);
	ck_assert_ptr_nonnull(strstr(last_printk, "header past"));

	host_put(COOP_DEV_COCON, COOP_COCON_INPUT, 0, "ok", 2, true);
	((struct coop_msg_hdr *)w->data)->length = COOP_MSG_MAX_PAYLOAD + 1;
	msg_drain();
	ck_assert_ptr_nonnull(strstr(last_printk, "past the window"));

	host_put(COOP_DEV_COCON, COOP_COCON_INPUT, 0, "ok", 2, true);
	w->bytes = sizeof(w->data) + 1;
	msg_drain();
	ck_assert_ptr_nonnull(strstr(last_printk, "claims"));

	host_put(COOP_DEV_COCON, COOP_COCON_INPUT, 0, "ok", 2, true);
	((struct coop_msg_hdr *)w->data)->length = 100; /* inside bytes? no: 40 bytes */
	msg_drain();
	ck_assert_uint_eq(delivered_len, 2);
	ck_assert_uint_eq(w->count, 0);
	ck_assert_uint_eq(w->bytes, 0);
}
END_TEST

/* A flood of bad messages: a few lines and a summary, not one line each. */
START_TEST(test_drain_flood)
{
	int i;

	for (i = 0; i < 50; i++)
		host_put(COOP_DEV_COCON, COOP_COCON_INPUT, 0, "z", 1, false);
	msg_drain();
	ck_assert_uint_le(printks, 5);
	ck_assert_ptr_nonnull(strstr(last_printk, "more"));
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("guest msg");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_one_message);
	tcase_add_test(tc, test_flush_params);
	tcase_add_test(tc, test_split_big_payload);
	tcase_add_test(tc, test_full_window_flushes);
	tcase_add_test(tc, test_send_seq_flags);
	tcase_add_test(tc, test_drain_good_and_bad);
	tcase_add_test(tc, test_drain_bounds);
	tcase_add_test(tc, test_drain_flood);
	suite_add_tcase(s, tc);
	return s;
}

