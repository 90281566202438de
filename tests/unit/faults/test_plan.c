/* SPDX-License-Identifier: MIT */
/*
 * test_plan.c - faults/plan.c: the fault-plan language, what each rule
 * parses into, and every kind of mistake with its exact line and column.
 * Run: build/tests/test_plan (ASan checks the parser never reads past text).
 */
#include <check.h>

#include "unit.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coop/abi.h"
#include "faults/faults.h"

static struct fault_plan plan;
static char err[512];

/* Parse from an exactly-sized heap copy: no NUL after it for ASan to miss. */
static int parse(const char *text)
{
	size_t len = strlen(text);
	char *copy = malloc(len ? len : 1);
	int rc;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, text, len);
	err[0] = '\0';
	rc = fault_plan_parse(copy, len, "p.plan", &plan, err, sizeof(err));
	free(copy);
	return rc;
}

static const struct fault_rule *one(const char *text)
{
	ck_assert_msg(parse(text) == 0, "'%s': %s", text, err);
	ck_assert_uint_eq(plan.nrules, 1);
	return &plan.rules[0];
}

/* text must fail with err starting "p.plan:LINE:COL: " and containing what. */
static void bad_at(const char *text, unsigned int line, unsigned int col, const char *what)
{
	char want[64];

	memset(&plan, 0x5a, sizeof(plan));
	ck_assert_msg(parse(text) == -EINVAL, "'%s' parsed", text);
	snprintf(want, sizeof(want), "p.plan:%u:%u: ", line, col);
	ck_assert_msg(!strncmp(err, want, strlen(want)), "'%s': got '%s', want '%s...'", text, err,
		      want);
	ck_assert_msg(strstr(err, what), "'%s': got '%s', want '%s' in it", text, err, what);
	ck_assert_msg(strstr(err, ", expected "), "'%s': '%s' says nothing expected", text, err);
	ck_assert_msg(!strchr(err, '\n'), "'%s': more than one line", text);
	/* nothing of a failed parse is visible */
	ck_assert_uint_eq(plan.nrules, 0x5a5a5a5a);
}

/* ---- what rules parse into -------------------------------------------- */

START_TEST(defaults)
{
	const struct fault_rule *r = one("drop\n");

	ck_assert_uint_eq(plan.seed, 1);
	ck_assert(!plan.has_seed);
	ck_assert_str_eq(plan.path, "p.plan");
	ck_assert_int_eq(r->kind, FAULT_DROP);
	ck_assert_uint_eq(r->line, 1);
	ck_assert_int_eq(r->device, -1);
	ck_assert_int_eq(r->unit, -1);
	ck_assert_int_eq(r->dir, -1);
	ck_assert_int_eq(r->type, -1);
	ck_assert_int_eq(r->op, -1);
	ck_assert_int_eq(r->vector, -1);
	ck_assert(r->seq_lo == 0 && r->seq_hi == UINT64_MAX);
	ck_assert(r->win_lo == 1 && r->win_hi == UINT64_MAX);
	ck_assert(r->win_ns_lo == 0 && r->win_ns_hi == UINT64_MAX);
	ck_assert(r->prob == 0 && r->every == 0);
	ck_assert_uint_eq(r->bits, 1);
	ck_assert_uint_eq(r->gap, 1);
}
END_TEST

START_TEST(message_selectors)
{
	const struct fault_rule *r =
		one("  corrupt\tbits=3 device=cobd unit=2 dir=to_guest type=reply seq=5-9 "
		    "prob=0.5% window=100-  # the lot\n");

	ck_assert_int_eq(r->kind, FAULT_CORRUPT);
	ck_assert_uint_eq(r->bits, 3);
	ck_assert_int_eq(r->device, COOP_DEV_COBD);
	ck_assert_int_eq(r->unit, 2);
	ck_assert_int_eq(r->dir, 1);
	ck_assert_int_eq(r->type, COOP_COBD_REPLY);
	ck_assert(r->seq_lo == 5 && r->seq_hi == 9);
	ck_assert_double_eq_tol(r->prob, 0.005, 1e-12);
	ck_assert(r->win_lo == 100 && r->win_hi == UINT64_MAX);
	r = one("duplicate dir=to_host device=cocon type=log seq=7 every=3 window=2-4");
	ck_assert_int_eq(r->dir, 0);
	ck_assert_int_eq(r->type, COOP_COCON_LOG);
	ck_assert(r->seq_lo == 7 && r->seq_hi == 7 && r->every == 3);
	ck_assert(r->win_lo == 2 && r->win_hi == 4);
	r = one("truncate keep=14 device=conet type=frame dir=both window=1s-5s");
	ck_assert_uint_eq(r->keep, 14);
	ck_assert_int_eq(r->type, COOP_CONET_FRAME);
	ck_assert_int_eq(r->dir, -1);
	ck_assert(r->win_ns_lo == 1000000000ull && r->win_ns_hi == 5000000000ull);
	r = one("reorder gap=1000 window=250ms- type=2");
	ck_assert_uint_eq(r->gap, 1000);
	ck_assert_int_eq(r->type, 2);
	ck_assert(r->win_ns_lo == 250000000ull && r->win_ns_hi == UINT64_MAX);
	r = one("drop device=cocon type=3");
	ck_assert_int_eq(r->type, COOP_COCON_INPUT);
}
END_TEST

START_TEST(probabilities)
{
	ck_assert_double_eq_tol(one("drop prob=0.25")->prob, 0.25, 1e-12);
	ck_assert_double_eq_tol(one("drop prob=100%")->prob, 1.0, 1e-12);
	ck_assert_double_eq_tol(one("drop prob=1")->prob, 1.0, 1e-12);
	ck_assert_double_eq_tol(one("drop prob=1%")->prob, 0.01, 1e-12);
	ck_assert_double_eq_tol(one("drop prob=0.001%")->prob, 0.00001, 1e-15);
}
END_TEST

START_TEST(delays)
{
	const struct fault_rule *r = one("delay 500us");

	ck_assert(r->dist == FAULT_DIST_FIXED && r->a_ns == 500000);
	r = one("delay uniform 100us 2ms device=cobd");
	ck_assert(r->dist == FAULT_DIST_UNIFORM && r->a_ns == 100000 && r->b_ns == 2000000);
	r = one("delay normal 1ms 200us");
	ck_assert(r->dist == FAULT_DIST_NORMAL && r->a_ns == 1000000 && r->b_ns == 200000);
	ck_assert_uint_eq(r->max_ns, 1800000); /* MEAN + 4 SD */
	r = one("delay normal 1ms 200us max=5ms");
	ck_assert_uint_eq(r->max_ns, 5000000);
	r = one("irq delay 7ns vector=timer");
	ck_assert(r->kind == FAULT_IRQ_DELAY && r->a_ns == 7 && r->vector == COOP_VEC_TIMER);
	r = one("delay 60s");
	ck_assert_uint_eq(r->a_ns, 60000000000ull);
}
END_TEST

START_TEST(io_and_irq)
{
	const struct fault_rule *r = one("io enospc unit=1");

	ck_assert_int_eq(r->kind, FAULT_IO_ENOSPC);
	ck_assert_int_eq(r->op, COOP_COBD_WRITE); /* only writes run out of space */
	ck_assert_int_eq(r->device, COOP_DEV_COBD);
	r = one("io eio op=flush seq=3-4");
	ck_assert(r->kind == FAULT_IO_EIO && r->op == COOP_COBD_FLUSH && r->seq_hi == 4);
	r = one("io short op=read device=cobd");
	ck_assert(r->kind == FAULT_IO_SHORT && r->op == COOP_COBD_READ);
	ck_assert_int_eq(one("irq drop vector=cobd")->vector, COOP_VEC_COBD);
	ck_assert_int_eq(one("irq spurious vector=255")->vector, 255);
	ck_assert_int_eq(one("irq spurious")->kind, FAULT_IRQ_SPURIOUS);
}
END_TEST

START_TEST(whole_plan)
{
	ck_assert_int_eq(parse("# a plan\r\n\r\nseed 42\r\n\tdrop # x\r\n\n  \nduplicate"), 0);
	ck_assert(plan.has_seed && plan.seed == 42);
	ck_assert_uint_eq(plan.nrules, 2);
	ck_assert_uint_eq(plan.rules[0].line, 4);
	ck_assert_uint_eq(plan.rules[1].line, 7);
	ck_assert_int_eq(parse("drop\nseed 18446744073709551615\n"), 0);
	ck_assert(plan.seed == UINT64_MAX);
	ck_assert_str_eq(fault_kind_name(FAULT_IO_SHORT), "io short");
	ck_assert_str_eq(fault_kind_name(FAULT_KIND_COUNT), "?");
}
END_TEST

START_TEST(max_rules)
{
	char text[FAULT_MAX_RULES * 5 + 1] = "";

	for (int i = 0; i < FAULT_MAX_RULES; i++)
		strcat(text, "drop\n");
	ck_assert_int_eq(parse(text), 0);
	ck_assert_uint_eq(plan.nrules, FAULT_MAX_RULES);
}
END_TEST

START_TEST(describe)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	ck_assert_int_eq(parse("seed 42\n\ncorrupt dir=to_guest device=cobd prob=1%\n"
			       "drop device=cobd unit=1 seq=4-18446744073709551615\n"
			       "delay 2ms device=cobd type=reply dir=to_guest every=10\n"
			       "reorder device=conet gap=2 window=3-9\n"
			       "io short op=write every=2\n"
			       "irq delay uniform 1ms 1500us vector=timer window=1s-2s\n"
			       "truncate keep=1 every=1\n"),
			 0);
	fault_plan_describe(&plan, out);
	fclose(out);
	ck_assert_str_eq(buf,
		"plan p.plan: seed 42, 7 rules\n"
		"rule 1 (line 3): corrupt 1 bit of cobd messages to_guest, with probability 1%\n"
		"rule 2 (line 4): drop cobd unit 1 messages with request id 4 and above, every "
		"time\n"
		"rule 3 (line 5): delay 2ms of cobd replies to_guest, every 10th\n"
		"rule 4 (line 6): reorder conet messages behind 2 later messages, every time, "
		"only matching events 3..9\n"
		"rule 5 (line 7): cut short cobd image writes, every 2nd\n"
		"rule 6 (line 8): delay uniformly 1ms..1500us of vIRQs on vector 32 (timer), "
		"every time, only between 1s and 2s after boot\n"
		"rule 7 (line 9): truncate cobd and conet messages to 1 payload byte, every time\n");
	free(buf);
}
END_TEST

/* ---- every kind of mistake, with its line and column ------------------ */

START_TEST(unknown_action)
{
	bad_at("frob\n", 1, 1, "unknown action 'frob'");
	bad_at("\n  # c\n   corrupted bits=1", 3, 4, "unknown action 'corrupted'");
	bad_at("io foo", 1, 4, "unknown io fault 'foo'");
	bad_at("io", 1, 3, "io needs a fault");
	bad_at("irq prob=1%", 1, 5, "irq needs a fault");
}
END_TEST

START_TEST(unknown_key)
{
	bad_at("drop foo=1", 1, 6, "unknown key 'foo'");
	bad_at("drop  Prob=1%", 1, 7, "unknown key 'Prob'");
}
END_TEST

START_TEST(duplicate_key)
{
	bad_at("drop prob=1% prob=2%", 1, 14, "duplicate key 'prob' (first at column 6)");
	bad_at("drop device=cobd unit=1 device=cobd", 1, 25, "duplicate key 'device'");
}
END_TEST

START_TEST(missing_value)
{
	bad_at("drop prob", 1, 6, "key 'prob' without a value");
	bad_at("drop prob=", 1, 11, "key 'prob' with an empty value");
	bad_at("corrupt bits= prob=1%", 1, 14, "empty value");
}
END_TEST

START_TEST(bad_number)
{
	bad_at("drop unit=x", 1, 11, "bad number 'x' for unit");
	bad_at("corrupt bits=1x", 1, 14, "bad number '1x'");
	bad_at("drop every=-3", 1, 12, "bad number '-3'");
	bad_at("drop seq=99999999999999999999", 1, 10, "bad number");
}
END_TEST

START_TEST(out_of_range)
{
	bad_at("corrupt bits=0", 1, 14, "bits 0 out of range, expected 1 to 64");
	bad_at("corrupt bits=65", 1, 14, "bits 65 out of range");
	bad_at("drop unit=9", 1, 11, "unit 9 out of range, expected 0 to 7");
	bad_at("reorder gap=0", 1, 13, "gap 0 out of range, expected 1 to 1000");
	bad_at("reorder gap=1001", 1, 13, "gap 1001 out of range");
	bad_at("drop every=0", 1, 12, "every 0 out of range");
	bad_at("truncate keep=8192", 1, 15, "keep 8192 out of range");
	bad_at("irq drop vector=3", 1, 17, "vector 3 out of range, expected 32 to 255");
	bad_at("drop type=65536", 1, 11, "type 65536 out of range");
}
END_TEST

START_TEST(bad_probability)
{
	bad_at("drop prob=0%", 1, 11, "bad probability '0%'");
	bad_at("drop prob=150%", 1, 11, "bad probability '150%'");
	bad_at("drop prob=-1", 1, 11, "bad probability '-1'");
	bad_at("drop prob=abc", 1, 11, "bad probability 'abc'");
	bad_at("drop prob=50", 1, 11, "bad probability '50'");
	bad_at("drop prob=0", 1, 11, "bad probability");
	bad_at("drop prob=1.", 1, 11, "bad probability");
	bad_at("drop prob=%", 1, 11, "bad probability");
	bad_at("drop prob=1e-3", 1, 11, "bad probability");
}
END_TEST

START_TEST(prob_and_every)
{
	bad_at("drop prob=1% every=3", 1, 14, "both prob and every");
	bad_at("drop every=3 device=cobd prob=1%", 1, 26, "both prob and every");
}
END_TEST

START_TEST(bad_time)
{
	bad_at("delay 5", 1, 7, "delay '5' has no unit");
	bad_at("delay 5xs", 1, 7, "delay '5xs' is not a time");
	bad_at("delay 5 ms", 1, 7, "has no unit");
	bad_at("delay uniform 1ms 2", 1, 19, "MAX '2' has no unit");
	bad_at("delay 61s", 1, 7, "too long, expected at most 60s");
	bad_at("delay 0ms", 1, 7, "delay 0 does nothing");
	bad_at("drop window=1s-5", 1, 16, "window end '5' has no unit");
	bad_at("delay normal 1ms 200us max=1", 1, 28, "max '1' has no unit");
}
END_TEST

START_TEST(delay_forms)
{
	bad_at("delay", 1, 6, "delay needs a time");
	bad_at("delay   # soon", 1, 6, "delay needs a time");
	bad_at("delay prob=1%", 1, 7, "delay needs a time");
	bad_at("irq delay vector=timer", 1, 11, "irq delay needs a time");
	bad_at("delay uniform 1ms", 1, 18, "uniform MIN MAX needs a time");
	bad_at("delay uniform 2ms 1ms", 1, 15, "uniform MIN above MAX");
	bad_at("delay normal 1ms 200us max=500us", 1, 28, "max below MEAN");
	bad_at("delay 1ms max=2ms", 1, 11, "max= on a fixed delay");
	bad_at("delay normal 40s 6s", 1, 18, "MEAN+4*SD above 60s");
}
END_TEST

START_TEST(bad_range)
{
	bad_at("drop seq=5-3", 1, 10, "bad seq range (A above B)");
	bad_at("drop seq=5-", 1, 10, "bad seq range");
	bad_at("drop seq=-5", 1, 10, "bad seq range");
	bad_at("drop seq=1-2-3", 1, 10, "bad seq range");
	bad_at("drop window=9-2", 1, 13, "bad window (start after end)");
	bad_at("drop window=0-2", 1, 13, "window start 0 out of range");
	bad_at("drop window=5", 1, 13, "bad window");
	bad_at("drop window=5s-1s", 1, 13, "bad window (start after end)");
	bad_at("drop window=1-5s", 1, 13, "window start '1' has no unit");
}
END_TEST

START_TEST(bad_device_and_type)
{
	bad_at("drop device=disk", 1, 13, "unknown device 'disk'");
	bad_at("drop dir=up", 1, 10, "unknown direction 'up'");
	bad_at("drop device=cobd type=frame", 1, 23, "type 'frame' is not a cobd message type, "
						 "expected request, reply");
	bad_at("drop type=reply device=cocon", 1, 11, "not a cocon message type");
	bad_at("drop type=reply", 1, 11, "type 'reply' needs a device");
	bad_at("drop device=conet type=2", 1, 24, "type '2' is not a conet message type");
	bad_at("io eio device=conet", 1, 15, "expected device=cobd");
}
END_TEST

START_TEST(key_not_for_action)
{
	bad_at("drop op=read", 1, 6, "key 'op' does not apply to drop rules");
	bad_at("corrupt vector=timer", 1, 9, "key 'vector' does not apply");
	bad_at("irq drop device=cobd", 1, 10, "key 'device' does not apply to irq drop rules");
	bad_at("irq spurious dir=to_guest", 1, 14, "key 'dir' does not apply");
	bad_at("irq delay 1ms type=1", 1, 15, "key 'type' does not apply");
	bad_at("drop bits=3", 1, 6, "key 'bits' does not apply");
	bad_at("io eio dir=to_host", 1, 8, "key 'dir' does not apply");
	bad_at("irq drop vector=nmi", 1, 17, "unknown vector 'nmi'");
	bad_at("io eio op=trim", 1, 11, "unknown op 'trim'");
}
END_TEST

START_TEST(enospc_read)
{
	bad_at("io enospc op=read", 1, 14, "io enospc with op=read, expected op=write");
	bad_at("io short op=flush", 1, 13, "io short with op=flush");
}
END_TEST

START_TEST(bad_seed)
{
	bad_at("seed 1\ndrop\nseed 2\n", 3, 1, "seed given twice (first on line 1)");
	bad_at("seed x\ndrop", 1, 6, "bad seed 'x'");
	bad_at("seed -1\ndrop", 1, 6, "bad seed '-1'");
	bad_at("seed", 1, 5, "seed without a number");
	bad_at("seed 1 2", 1, 8, "unexpected '2' after seed");
	bad_at("seed 18446744073709551616", 1, 6, "bad seed");
}
END_TEST

START_TEST(trailing_garbage)
{
	bad_at("drop 5", 1, 6, "unexpected '5' after drop");
	bad_at("delay 1ms 2ms", 1, 11, "unexpected '2ms' after delay");
	bad_at("irq spurious now", 1, 14, "unexpected 'now' after irq spurious");
}
END_TEST

START_TEST(too_many_rules)
{
	char text[(FAULT_MAX_RULES + 1) * 5 + 8] = "";

	for (int i = 0; i <= FAULT_MAX_RULES; i++)
		strcat(text, i == FAULT_MAX_RULES ? " drop\n" : "drop\n");
	bad_at(text, FAULT_MAX_RULES + 1, 2, "too many rules, expected at most 64");
}
END_TEST

START_TEST(no_rules)
{
	bad_at("", 1, 1, "no rules");
	bad_at("# nothing\nseed 3\n\n", 1, 1, "no rules, expected at least one rule");
}
END_TEST

START_TEST(long_line_and_bytes)
{
	char text[1100 + 8];

	memset(text, ' ', 1100);
	strcpy(text + 1100, "drop");
	bad_at(text, 1, 1025, "line longer than 1024 characters");
	memset(text, ' ', 1020);
	strcpy(text + 1020, "drop"); /* 1024 exactly: fine */
	ck_assert_int_eq(parse(text), 0);
	bad_at("drop\x01", 1, 5, "control character 0x01");
	bad_at("drop\n\ndevice\x7f", 3, 7, "control character 0x7f");
	/* in a comment, anything goes */
	ck_assert_int_eq(parse("drop # \x01\x7f\xff"), 0);
	/* a quoted word is cut short and made printable */
	bad_at("\xff\xfe", 1, 1, "unknown action '\?\?'");
	memset(text, 'x', 60);
	text[60] = '\0';
	bad_at(text, 1, 1, "unknown action 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'");
}
END_TEST

START_TEST(embedded_nul)
{
	static const char text[] = "drop\0prob=1%\n";

	err[0] = '\0';
	ck_assert_int_eq(fault_plan_parse(text, sizeof(text) - 1, "p.plan", &plan, err,
					  sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "p.plan:1:5: control character 0x00, expected text");
}
END_TEST

START_TEST(small_err_buffer)
{
	char small[8];

	ck_assert_int_eq(fault_plan_parse("frob", 4, "p.plan", &plan, small, sizeof(small)),
			 -EINVAL);
	ck_assert_str_eq(small, "p.plan:");
	ck_assert_int_eq(fault_plan_parse("frob", 4, "p.plan", &plan, NULL, 0), -EINVAL);
}
END_TEST

START_TEST(load)
{
	char path[] = "/tmp/test_plan.XXXXXX";
	int fd = mkstemp(path);
	static const char text[] = "seed 9\nio eio prob=2%\n";

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, sizeof(text) - 1), (int)sizeof(text) - 1);
	close(fd);
	ck_assert_int_eq(fault_plan_load(path, &plan, err, sizeof(err)), 0);
	ck_assert(plan.seed == 9 && plan.nrules == 1);
	ck_assert_str_eq(plan.path, path);
	unlink(path);
	ck_assert_int_eq(fault_plan_load(path, &plan, err, sizeof(err)), -ENOENT);
	ck_assert(strstr(err, ": cannot read: No such file or directory"));
	ck_assert(!strncmp(err, path, strlen(path)));
	ck_assert_int_eq(fault_plan_load("/tmp", &plan, err, sizeof(err)), -EISDIR);
	ck_assert_str_eq(err, "/tmp: cannot read: Is a directory");
	ck_assert_int_eq(fault_plan_load("/dev/null", &plan, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "/dev/null:1:1: no rules, expected at least one rule (e.g. "
			      "drop prob=1%)");
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("plan");
	TCase *good = tcase_create("parse"), *badc = tcase_create("errors");

	tcase_add_test(good, defaults);
	tcase_add_test(good, message_selectors);
	tcase_add_test(good, probabilities);
	tcase_add_test(good, delays);
	tcase_add_test(good, io_and_irq);
	tcase_add_test(good, whole_plan);
	tcase_add_test(good, max_rules);
	tcase_add_test(good, describe);
	tcase_add_test(good, load);
	suite_add_tcase(s, good);
	tcase_add_test(badc, unknown_action);
	tcase_add_test(badc, unknown_key);
	tcase_add_test(badc, duplicate_key);
	tcase_add_test(badc, missing_value);
	tcase_add_test(badc, bad_number);
	tcase_add_test(badc, out_of_range);
	tcase_add_test(badc, bad_probability);
	tcase_add_test(badc, prob_and_every);
	tcase_add_test(badc, bad_time);
	tcase_add_test(badc, delay_forms);
	tcase_add_test(badc, bad_range);
	tcase_add_test(badc, bad_device_and_type);
	tcase_add_test(badc, key_not_for_action);
	tcase_add_test(badc, enospc_read);
	tcase_add_test(badc, bad_seed);
	tcase_add_test(badc, trailing_garbage);
	tcase_add_test(badc, too_many_rules);
	tcase_add_test(badc, no_rules);
	tcase_add_test(badc, long_line_and_bytes);
	tcase_add_test(badc, embedded_nul);
	tcase_add_test(badc, small_err_buffer);
	suite_add_tcase(s, badc);
	return s;
}

