/* SPDX-License-Identifier: MIT */
/*
 * cmd_analyze.c - `coop analyze TRACE_DIR -o OUT_DIR`: execs Debian's
 * /usr/bin/python3 -m coop_analyze, the analysis package (analysis/coop_analyze,
 * copied beside coop into coop-analyze/ at build time), which parses the
 * command line and does the work; docs/analysis.md says what it writes.
 * Also the exec of python3 that the other commands written in Python share.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "coop_build_info.h"
#include "util/util.h"
#include "core/shim.h"

/* Debian's python: the one python3-bt2 installs its module for. */
#define ANALYZE_PYTHON "/usr/bin/python3"
#define ANALYZE_DIR "coop-analyze"

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

/*
 * Replace this process by /usr/bin/python3 -m MODULE ARGS... (a module of
 * the analysis packages, which parses the command line itself), with
 * what it needs in its environment: PYTHONPATH (cli_analysis_setup), the
 * version and commit for its provenance, and COOP_PROGRAM, this coop
 * executable, for modules that run coop again.  Returns only on failure,
 * with coop's exit status; cmd names the command in messages.
 */
int cli_exec_python(const char *cmd, const char *module, int argc, char **argv)
{
	static char python[] = ANALYZE_PYTHON, dash_m[] = "-m";
	char pkg[PATH_MAX], exe[PATH_MAX];
	char **args = calloc((size_t)argc + 3, sizeof(*args));
	ssize_t n;

	if (!args)
		return SHIM_EXIT_FAILURE;
	if (access(ANALYZE_PYTHON, X_OK)) {
		fprintf(stderr, "coop %s: %s not found: install the Debian package python3\n",
			cmd, ANALYZE_PYTHON);
		return SHIM_EXIT_USAGE;
	}
	if (cli_analysis_setup(pkg, sizeof(pkg))) {
		fprintf(stderr, "coop %s: the analysis package is not at %s (rebuild coop, "
			"or set COOP_ANALYZE_DIR to analysis/coop_analyze)\n", cmd, pkg);
		return SHIM_EXIT_USAGE;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return SHIM_EXIT_FAILURE;
	exe[n] = '\0';
	if (setenv("COOP_VERSION", COOP_BUILD_VERSION, 1) ||
	    setenv("COOP_COMMIT", COOP_BUILD_COMMIT, 1) || setenv("COOP_PROGRAM", exe, 1))
		return SHIM_EXIT_FAILURE;
	args[0] = python;
	args[1] = dash_m;
	args[2] = (char *)module;
	for (int i = 1; i < argc; i++) /* argparse checks them, --help included */
		args[i + 2] = argv[i];
	fflush(NULL);
	execv(ANALYZE_PYTHON, args);
	fprintf(stderr, "coop %s: cannot run %s: %s\n", cmd, ANALYZE_PYTHON, strerror(errno));
	return SHIM_EXIT_FAILURE;
}

int coop_cmd_analyze(int argc, char **argv)
{
	return cli_exec_python("analyze", "coop_analyze", argc, argv);
}
