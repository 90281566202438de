/* SPDX-License-Identifier: MIT */
/*
 * main.c - the `coop` program: one binary, subcommands (as lttng, perf,
 * git).  `coop --help` lists them; each has its own --help.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "bench/bench.h"
#include "core/shim.h"

#ifndef COOP_VERSION
#define COOP_VERSION "unknown"
#endif

static const char usage[] =
	"usage: coop COMMAND [options]\n"
	"\n"
	"coop runs a guest kernel as a coroutine of the host (cooperative\n"
	"virtualization, after coLinux) and lets you trace, fault and measure it.\n"
	"\n"
	"commands:\n"
	"  run       boot a guest and run it (coop run --help)\n"
	"  bench     latency distributions against baselines (coop bench --help)\n"
	"  faults    check a fault plan: coop faults check PLAN (coop faults --help)\n"
	"  analyze   plots, timeline, Perfetto JSON and an HTML report from a trace\n"
	"            (coop analyze TRACE_DIR -o OUT_DIR; coop analyze --help)\n"
	"  version   versions of coop and of its host/guest ABI\n"
	"  help      this text\n";

static int cmd_version(void)
{
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
		fputs(usage, stderr);
		return SHIM_EXIT_USAGE;
	}
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		fputs(usage, stdout);
		return 0;
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version"))
		return cmd_version();
	if (!strcmp(cmd, "run"))
		return shim_cmd_run(argc - 1, argv + 1);
	if (!strcmp(cmd, "bench"))
		return bench_cmd(argc - 1, argv + 1);
	if (!strcmp(cmd, "faults"))
		return shim_cmd_faults(argc - 1, argv + 1);
	if (!strcmp(cmd, "analyze"))
		return shim_cmd_analyze(argc - 1, argv + 1);
	fprintf(stderr, "coop: unknown command '%s' (see 'coop --help')\n", cmd);
	return SHIM_EXIT_USAGE;
}
