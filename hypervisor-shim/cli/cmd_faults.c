/* SPDX-License-Identifier: MIT */
/*
 * cmd_faults.c - `coop faults check PLAN`: parse a fault plan (faults/plan.c)
 * and say in words what each rule selects and does, so a plan can be checked
 * before a run.  A bad plan is one "FILE:LINE:COL: ..." line, exit status 2.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/shim.h"
#include "faults/faults.h"

static const char faults_usage[] =
	"usage: coop faults check PLAN\n"
	"\n"
	"Validate a fault plan and print what each rule selects and does.\n"
	"A bad plan gets one line on stderr, FILE:LINE:COL: what is wrong, and\n"
	"exit status 2.  The plan language is in docs/faults.md;\n"
	"examples are in faults/examples/.  Use it in a run with\n"
	"`coop run --faults PLAN [--seed N]`.\n"
	"\n"
	"options:\n"
	"  -h, --help   this text\n";

static bool is_help(const char *arg)
{
	return !strcmp(arg, "--help") || !strcmp(arg, "-h") || !strcmp(arg, "help");
}

static int faults_check(int argc, char **argv)
{
	const char *path = NULL;
	struct fault_plan plan;
	char err[512];
	bool opts = true;

	for (int i = 1; i < argc; i++) {
		if (opts && (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))) {
			fputs(faults_usage, stdout);
			return 0;
		}
		if (opts && !strcmp(argv[i], "--")) {
			opts = false; /* a plan whose name starts with '-' */
		} else if (opts && argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "coop faults check: unknown option '%s' (see 'coop faults "
					"--help')\n", argv[i]);
			return SHIM_EXIT_USAGE;
		} else if (path) {
			fprintf(stderr, "coop faults check: unexpected argument '%s' (one PLAN "
					"only)\n", argv[i]);
			return SHIM_EXIT_USAGE;
		} else {
			path = argv[i];
		}
	}
	if (!path) {
		fputs("coop faults check: missing PLAN (usage: coop faults check PLAN)\n", stderr);
		return SHIM_EXIT_USAGE;
	}
	/* The error starts with FILE:LINE:COL, as a compiler's, for editors. */
	if (fault_plan_load(path, &plan, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return SHIM_EXIT_USAGE;
	}
	fault_plan_describe(&plan, stdout);
	return fflush(stdout) ? SHIM_EXIT_FAILURE : 0;
}

int coop_cmd_faults(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (!sub) {
		fputs("coop faults: missing subcommand, expected 'check PLAN' (see 'coop faults "
		      "--help')\n", stderr);
		return SHIM_EXIT_USAGE;
	}
	if (is_help(sub)) {
		fputs(faults_usage, stdout);
		return 0;
	}
	if (!strcmp(sub, "check"))
		return faults_check(argc - 1, argv + 1);
	if (sub[0] == '-')
		fprintf(stderr, "coop faults: unknown option '%s' (see 'coop faults --help')\n", sub);
	else
		fprintf(stderr, "coop faults: unknown subcommand '%s', expected 'check' (see 'coop "
				"faults --help')\n", sub);
	return SHIM_EXIT_USAGE;
}
