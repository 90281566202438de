/* SPDX-License-Identifier: MIT */
/*
 * main.c - the `coop` program: one binary, subcommands (as lttng, perf,
 * git), looked up in one table (as kvmtool's builtins).  `coop --help`
 * lists them; each has its own --help.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/shim.h"

#ifndef COOP_VERSION
#define COOP_VERSION "unknown"
#endif

static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help; /* for `coop --help`; its lines after the first are indented */
} commands[] = {
	{ "run", coop_cmd_run, "boot a guest and run it (coop run --help)" },
	{ "bench", coop_cmd_bench, "latency distributions against baselines (coop bench --help)" },
	{ "faults", coop_cmd_faults, "check a fault plan: coop faults check PLAN (coop faults --help)" },
	{ "analyze", coop_cmd_analyze,
	  "plots, timeline, Perfetto JSON and an HTML report from a trace\n"
	  "(coop analyze TRACE_DIR -o OUT_DIR; coop analyze --help)" },
	{ "campaign", coop_cmd_campaign,
	  "many runs (plans x seeds x workloads) on GNU parallel or Slurm, one table\n"
	  "(coop campaign run FILE -o DIR; collect DIR; coop campaign --help)" },
	{ "version", cmd_version, "versions of coop and of its host/guest ABI" },
	{ "help", cmd_help, "this text" },
};

static void usage(FILE *out)
{
	fputs("usage: coop COMMAND [options]\n"
	      "\n"
	      "coop runs a guest kernel as a coroutine of the host (cooperative\n"
	      "virtualization, after coLinux) and lets you trace, fault and measure it.\n"
	      "\n"
	      "commands:\n", out);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const char *h = commands[i].help;

		fprintf(out, "  %-9s ", commands[i].name);
		for (; *h; h++) {
			fputc(*h, out);
			if (*h == '\n')
				fputs("            ", out);
		}
		fputc('\n', out);
	}
}

static int cmd_help(int argc, char **argv)
{
	(void)argc, (void)argv;
	usage(stdout);
	return 0;
}

static int cmd_version(int argc, char **argv)
{
	(void)argc, (void)argv;
	printf("coop %s\n", COOP_VERSION);
	printf("ABI %d.%d (passage magic %#llx, guest RAM at %#llx)\n", COOP_ABI_MAJOR,
	       COOP_ABI_MINOR, (unsigned long long)COOP_PASSAGE_MAGIC,
	       (unsigned long long)COOP_GUEST_BASE);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	/* A closed stdout must not kill the host: cocon stops writing instead. */
	signal(SIGPIPE, SIG_IGN);
	if (!cmd) {
		usage(stderr);
		return SHIM_EXIT_USAGE;
	}
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h"))
		cmd = "help";
	else if (!strcmp(cmd, "--version"))
		cmd = "version";
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(cmd, commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "coop: unknown command '%s' (see 'coop --help')\n", cmd);
	return SHIM_EXIT_USAGE;
}
