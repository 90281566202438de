/* SPDX-License-Identifier: MIT */
/*
 * cli.h - the `coop` program's front end: one function per command (as
 * kvmtool's builtin-*.c), and what the commands share.  The monitor
 * (core/) knows nothing of this room; the commands use it.
 */
#ifndef COOP_CLI_H
#define COOP_CLI_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

struct shim_vm;

/* The commands: argv[0] is the command's name; the return is coop's exit status. */
int coop_cmd_run(int argc, char **argv);     /* cmd_run.c */
int coop_cmd_bench(int argc, char **argv);   /* bench/cmd.c */
int coop_cmd_faults(int argc, char **argv);  /* cmd_faults.c: coop faults check PLAN */
int coop_cmd_analyze(int argc, char **argv); /* cmd_analyze.c: execs analysis/ with python3 */
int coop_cmd_campaign(int argc, char **argv); /* cmd_campaign.c: many runs, one table */

/* cmd_run.c: the guest kernel beside the coop executable, or NULL. */
const char *cli_default_kernel(void);

/* cmd_analyze.c: the analysis package on PYTHONPATH, for python3 -m coop_analyze... */
__attribute__((warn_unused_result)) int cli_analysis_setup(char *pkg, size_t pkglen);
/* ... and the exec of python3 -m MODULE ARGV[1..] (returns only on failure: an exit status). */
int cli_exec_python(const char *cmd, const char *module, int argc, char **argv);

/* parse.c: sizes as users type them ("64M", "1G": binary units). */
__attribute__((warn_unused_result)) int cli_parse_size(const char *s, uint64_t *out);
uint64_t cli_host_ram(void);
void cli_format_size(uint64_t bytes, char *buf, size_t len);

/* provenance.c: where a result came from (version, commit, inputs' SHA-256, ...). */
struct cli_provenance {
	int argc;                    /* the command's arguments (argv[0]: its name) */
	char **argv;
	struct timespec start_wall;  /* CLOCK_REALTIME at the start: the UTC start time */
	struct timespec start_mono;  /* CLOCK_MONOTONIC at the start: the wall duration */
	char kernel[PATH_MAX];       /* the guest kernel's path ... */
	char kernel_sha256[65];      /* ... and SHA-256 ("" if unreadable) */
	char plan[PATH_MAX];         /* the fault plan's path, "" without one ... */
	char plan_sha256[65];        /* ... and SHA-256 */
};
void cli_provenance_begin(struct cli_provenance *p, int argc, char **argv);
/* The inputs a result came from: the guest kernel, and the fault plan or NULL. */
void cli_provenance_inputs(struct cli_provenance *p, const char *kernel, const char *plan);
/* The "provenance" member of a JSON object (a line ending in ",\n"); seed NULL: none. */
void cli_provenance_json(FILE *f, const struct cli_provenance *p, const char *end,
			 const uint64_t *seed);
/* The same as "# key: value" lines (malloc'ed, NULL: no memory), for text results. */
char *cli_provenance_comment(const struct cli_provenance *p, const char *end, const uint64_t *seed);
/* CSV: the provenance columns' names, and one row's values (no leading or trailing comma). */
extern const char cli_provenance_csv_header[];
void cli_provenance_csv(FILE *f, const struct cli_provenance *p);

/* report.c: the run report (coop run --report FILE), and a JSON string writer. */
__attribute__((warn_unused_result)) int cli_report_write(const struct shim_vm *vm,
							 const struct cli_provenance *p,
							 const char *path);
void cli_json_str(FILE *f, const char *s);
/* How a run ended, as the report and the fault log say it ("powered_off", "crashed", ...). */
const char *cli_end_name(int state);

#endif /* COOP_CLI_H */
