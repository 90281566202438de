/* SPDX-License-Identifier: MIT */
/*
 * cmd_analyze.c - `coop analyze TRACE_DIR -o OUT_DIR`: checks the command
 * line, then execs Debian's /usr/bin/python3 -m coop_analyze, the analysis
 * package (analysis/coop_analyze, copied beside coop into coop-analyze/ at
 * build time).  The Python side does the work; docs/analysis.md says what it writes.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/util.h"
#include "core/shim.h"

/* Debian's python: the one python3-bt2 installs its module for. */
#define ANALYZE_PYTHON "/usr/bin/python3"
#define ANALYZE_DIR "coop-analyze"

static const char analyze_usage[] =
	"usage: coop analyze TRACE_DIR -o OUT_DIR [options]\n"
	"\n"
	"Read a trace of `coop run --trace TRACE_DIR` and write into OUT_DIR:\n"
	"latency histograms and CDFs (world switch by reason, interrupt\n"
	"forwarding, vIRQ delivery, message round trips per device), a timeline,\n"
	"message flows per device, the fault report, perfetto.json (open it at\n"
	"ui.perfetto.dev), summary.json and index.html, which shows them all.\n"
	"\n"
	"options:\n"
	"  -o, --output OUT_DIR  where the report goes (created if missing)\n"
	"  --json FILE           also write the summary statistics to FILE ('-': stdout)\n"
	"  --report FILE         the run's --report JSON, for fault outcomes\n"
	"                        (detected/recovered/escaped) the trace does not carry\n"
	"  --format png|svg      plot format (default png)\n"
	"  --no-perfetto         skip perfetto.json\n"
	"  -q, --quiet           print nothing on success\n"
	"  -h, --help            this text\n"
	"\n"
	"Needs Debian's python3 with python3-bt2, python3-numpy and\n"
	"python3-matplotlib (scripts/install-deps installs them).\n"
	"exit status: 0 done; 2 bad option, unreadable trace or missing package.\n";

/* Options taking a value, and flags, that are passed on to the script. */
static const char *const analyze_valued[] = { "-o", "--output", "--json", "--report", "--format" };
static const char *const analyze_flags[] = { "--no-perfetto", "-q", "--quiet" };

static int analyze_is(const char *arg, const char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(arg, set[i]))
			return 1;
	return 0;
}

/* Check the command line: exactly one TRACE_DIR and an -o; 0 or -EINVAL. */
static int analyze_check_args(int argc, char **argv)
{
	const size_t nv = sizeof(analyze_valued) / sizeof(analyze_valued[0]);
	const size_t nf = sizeof(analyze_flags) / sizeof(analyze_flags[0]);
	int dirs = 0, out = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (analyze_is(a, analyze_valued, nv)) {
			if (i + 1 >= argc) {
				fprintf(stderr, "coop analyze: %s needs a value\n", a);
				return -EINVAL;
			}
			if (!strcmp(a, "--format") && strcmp(argv[i + 1], "png") &&
			    strcmp(argv[i + 1], "svg")) {
				fprintf(stderr, "coop analyze: --format '%s': expected png or svg\n",
					argv[i + 1]);
				return -EINVAL;
			}
			out |= !strcmp(a, "-o") || !strcmp(a, "--output");
			i++;
		} else if (analyze_is(a, analyze_flags, nf)) {
			continue;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "coop analyze: unknown option '%s' (see 'coop analyze --help')\n",
				a);
			return -EINVAL;
		} else if (++dirs > 1) {
			fprintf(stderr, "coop analyze: one TRACE_DIR only ('%s' is a second one)\n", a);
			return -EINVAL;
		}
	}
	if (!dirs || !out) {
		fprintf(stderr, "coop analyze: %s (usage: coop analyze TRACE_DIR -o OUT_DIR)\n",
			!dirs ? "missing TRACE_DIR" : "missing -o OUT_DIR");
		return -EINVAL;
	}
	return 0;
}

/*
 * Make the analysis package coop_analyze importable by a python3 this
 * process starts: $COOP_ANALYZE_DIR (the package itself, e.g.
 * analysis/coop_analyze), else coop-analyze/coop_analyze beside coop,
 * where the build copies it; its parent goes first on PYTHONPATH.  0 or
 * -errno; pkg says where the package was looked for.
 */
int cli_analysis_setup(char *pkg, size_t pkglen)
{
	const char *env = getenv("COOP_ANALYZE_DIR"), *old = getenv("PYTHONPATH");
	char init[PATH_MAX + 16], dir[PATH_MAX], path[2 * PATH_MAX];
	char *slash;
	int rc = 0;

	if (env && *env)
		snprintf(pkg, pkglen, "%s", env);
	else
		rc = coop_beside_exe(ANALYZE_DIR "/coop_analyze", pkg, pkglen);
	if (rc)
		return rc;
	snprintf(init, sizeof(init), "%s/__init__.py", pkg);
	if (access(init, R_OK))
		return -ENOENT;
	snprintf(dir, sizeof(dir), "%s", pkg);
	slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	snprintf(path, sizeof(path), "%s%s%s", dir, old && *old ? ":" : "", old ? old : "");
	return setenv("PYTHONPATH", path, 1) ? -errno : 0;
}

int coop_cmd_analyze(int argc, char **argv)
{
	static char python[] = ANALYZE_PYTHON, dash_m[] = "-m", module[] = "coop_analyze";
	char pkg[PATH_MAX];
	char *args[64];
	int n = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(analyze_usage, stdout);
			return 0;
		}
	}
	if (analyze_check_args(argc, argv))
		return SHIM_EXIT_USAGE;
	if (argc + 4 > (int)(sizeof(args) / sizeof(args[0]))) {
		fprintf(stderr, "coop analyze: too many arguments\n");
		return SHIM_EXIT_USAGE;
	}
	if (access(ANALYZE_PYTHON, X_OK)) {
		fprintf(stderr, "coop analyze: %s not found: install the Debian package python3\n",
			ANALYZE_PYTHON);
		return SHIM_EXIT_USAGE;
	}
	if (cli_analysis_setup(pkg, sizeof(pkg))) {
		fprintf(stderr, "coop analyze: the analysis package is not at %s (rebuild coop, "
			"or set COOP_ANALYZE_DIR to analysis/coop_analyze)\n", pkg);
		return SHIM_EXIT_USAGE;
	}
	args[n++] = python;
	args[n++] = dash_m;
	args[n++] = module;
	for (int i = 1; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	fflush(NULL);
	execv(ANALYZE_PYTHON, args);
	fprintf(stderr, "coop analyze: cannot run %s: %s\n", ANALYZE_PYTHON, strerror(errno));
	return SHIM_EXIT_FAILURE;
}
