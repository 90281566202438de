/* SPDX-License-Identifier: MIT */
/*
 * fuzz_plan.c - libFuzzer harness for the fault-plan language
 * (faults/plan.c): any bytes as a plan file.  Beyond "no crash, no
 * ASan/UBSan report" it checks the parser's promises (faults.h,
 * docs/faults.md): a refused plan leaves *plan untouched and says so in
 * one line "PATH:LINE:COL: what, expected what" whose line and column lie
 * inside the text; an accepted one holds rules in range, is described
 * rule by rule (`coop faults check`), and runs through the engine.
 * Run: tests/fuzz/fuzz.sh plan SECONDS.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coop/abi.h"
#include "faults/faults.h"

#define FUZZ_NAME "fuzz_plan"
#include "fuzz.h"

#define PATH "fuzz.plan"
#define ERRLEN 512 /* what `coop faults check` gives the parser */



/* Line n (1-based) of text: its length without '\n', or -1 past the end. */
static long line_len(const char *text, size_t len, unsigned long n)
{
	size_t start = 0;

	for (unsigned long i = 1; len; i++) {
		const char *nl = memchr(text + start, '\n', len - start);

		if (i == n)
			return (long)((nl ? (size_t)(nl - text) : len) - start);
		if (!nl)
			return -1;
		start = (size_t)(nl - text) + 1;
	}
	return n == 1 ? 0 : -1; /* the empty plan: one empty line */
}

/* A refusal: one line, inside the text, saying what was expected. */
static void check_error(const char *text, size_t len, const char *err)
{
	unsigned long line, col;
	long ll;
	int n = 0;

	require(memchr(err, '\0', ERRLEN), "err not terminated");
	require(!strchr(err, '\n'), "'%s' is more than one line", err);
	require(sscanf(err, PATH ":%lu:%lu: %n", &line, &col, &n) == 2 && n > 0,
		"'%s' does not start with " PATH ":LINE:COL: ", err);
	require(strstr(err, ", expected "), "'%s' says nothing expected", err);
	ll = line_len(text, len, line);
	require(line >= 1 && ll >= 0, "'%s': no line %lu in the plan", err, line);
	require(col >= 1 && col <= (unsigned long)ll + 1,
		"'%s': column %lu, line %lu has %ld bytes", err, col, line, ll);
}

/* An accepted plan: every rule within what the language allows. */
static void check_plan(const struct fault_plan *plan)
{
	require(plan->nrules >= 1 && plan->nrules <= FAULT_MAX_RULES, "%u rules", plan->nrules);
	require(!strcmp(plan->path, PATH), "path '%s'", plan->path);
	for (unsigned int i = 0; i < plan->nrules; i++) {
		const struct fault_rule *r = &plan->rules[i];

		require((unsigned int)r->kind < FAULT_KIND_COUNT, "rule %u: kind %d", i, r->kind);
		require(r->device >= -1 && r->device < COOP_DEV_COUNT &&
			r->device != COOP_DEV_MONITOR, "rule %u: device %d", i, r->device);
		require(r->unit >= -1 && r->unit < COOP_BOOT_MAX_DEVS, "rule %u: unit %d", i,
			r->unit);
		require(r->dir >= -1 && r->dir <= 1, "rule %u: dir %d", i, r->dir);
		require(r->vector == -1 || (r->vector >= 32 && r->vector < COOP_VEC_COUNT),
			"rule %u: vector %d", i, r->vector);
		require(r->seq_lo <= r->seq_hi && r->win_lo >= 1 && r->win_lo <= r->win_hi &&
			r->win_ns_lo <= r->win_ns_hi, "rule %u: a range upside down", i);
		require(r->prob >= 0 && r->prob <= 1 && !(r->prob > 0 && r->every),
			"rule %u: prob %g every %llu", i, r->prob, (unsigned long long)r->every);
		require(r->bits >= 1 && r->bits <= 64 && r->keep < COOP_MSG_MAX_PAYLOAD &&
			r->gap >= 1 && r->gap <= 1000, "rule %u: a parameter out of range", i);
		require(r->dist != FAULT_DIST_NORMAL || r->max_ns >= r->a_ns,
			"rule %u: normal delay with max below mean", i);
	}
}

/* `coop faults check`'s text: a plan line, then one line per rule, no "(null)". */
static void check_describe(const struct fault_plan *plan)
{
	char *text = NULL;
	size_t len = 0, lines = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return;
	fault_plan_describe(plan, f);
	fclose(f);
	require(len && text[len - 1] == '\n', "description does not end a line");
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	require(lines == plan->nrules + 1, "%zu lines for %u rules", lines, plan->nrules);
	require(!strncmp(text, "plan " PATH ": ", 5 + sizeof(PATH) + 1), "first line '%.40s'",
		text);
	require(!strstr(text, "(null)"), "a NULL string in '%s'", text);
	free(text);
}

/* The engine on the plan: a few events of each class, and the fault log. */
static void run_engine(const struct fault_plan *plan, size_t size)
{
	static struct fault_engine e;
	struct fault_fired f[8];
	uint8_t buf[64] = { 0 };
	FILE *log = fopen("/dev/null", "w");

	fault_engine_init(&e, plan, size & 1, size, 1000, log);
	for (unsigned int i = 0; i < 48; i++) {
		struct fault_event ev = {
			.cls = (enum fault_class)(i % 3), .device = (int)(i / 3 % COOP_DEV_COUNT),
			.unit = (int)(i % 2), .dir = (int)(i / 6 % 2), .type = (int)(i % 5),
			.op = (int)(i % 5), .vector = (int)(30 + i % 8), .seq = i / 4,
		};
		/* time moves on: windows in time open and close */
		unsigned int n = fault_engine_match(&e, &ev, 1000 + (uint64_t)i * 50000000u, f, 8);

		require(n <= 8, "%u faults fired", n);
		for (unsigned int k = 0; k < n; k++) {
			require(f[k].rule < plan->nrules, "fired rule %u", f[k].rule);
			fault_engine_flip(&f[k], buf, size < sizeof(buf) ? size : sizeof(buf));
		}
	}
	fault_engine_finish(&e);
	if (log)
		fclose(log);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fault_plan plan, untouched;
	char *err = malloc(ERRLEN), *small;
	int rc;

	if (!err)
		return 0;
	memset(&plan, 0x5a, sizeof(plan));
	memset(&untouched, 0x5a, sizeof(untouched));
	rc = fault_plan_parse((const char *)data, size, PATH, &plan, err, ERRLEN);
	if (rc) {
		require(rc == -EINVAL, "rc %d", rc);
		require(!memcmp(&plan, &untouched, sizeof(plan)), "a refused plan changed *plan");
		check_error((const char *)data, size, err);
	} else {
		check_plan(&plan);
		check_describe(&plan);
		run_engine(&plan, size);
	}
	/* A short error buffer is cut, never overrun (exactly sized for ASan). */
	small = malloc(1 + size % 24);
	if (small) {
		rc = fault_plan_parse((const char *)data, size, NULL, &plan, small, 1 + size % 24);
		require(memchr(small, '\0', 1 + size % 24) || !rc, "short err not terminated");
		free(small);
	}
	free(err);
	return 0;
}
