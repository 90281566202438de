/* SPDX-License-Identifier: MIT */
/*
 * provenance.c - where a result came from, written into it: coop's version
 * and git commit (embedded at build time), the command line, the SHA-256 of
 * the guest kernel and of the fault plan, the seed, the host, the UTC start
 * time, the wall duration and how the run ended.  A figure without these
 * cannot be reproduced or compared; with them, two results say whether they
 * came from the same code and inputs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cli/cli.h"
#include "coop_build_info.h"
#include "core/shim.h"

void cli_provenance_begin(struct cli_provenance *p, int argc, char **argv)
{
	memset(p, 0, sizeof(*p));
	p->argc = argc;
	p->argv = argv;
	clock_gettime(CLOCK_REALTIME, &p->start_wall);
	clock_gettime(CLOCK_MONOTONIC, &p->start_mono);
}

/* hex = SHA-256 of the file at path, or "" when it cannot be read. */
static void sha256_file(const char *path, char hex[65])
{
	unsigned char buf[1 << 16], md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	FILE *f = fopen(path, "rb");
	size_t n;
	bool ok = c && f && EVP_DigestInit_ex(c, EVP_sha256(), NULL);

	hex[0] = '\0';
	while (ok && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		ok = EVP_DigestUpdate(c, buf, n);
	if (ok && !ferror(f) && EVP_DigestFinal_ex(c, md, &len) && len == 32)
		for (unsigned int i = 0; i < len; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
	if (f)
		fclose(f);
	EVP_MD_CTX_free(c);
}

void cli_provenance_inputs(struct cli_provenance *p, const char *kernel, const char *plan)
{
	snprintf(p->kernel, sizeof(p->kernel), "%s", kernel);
	sha256_file(kernel, p->kernel_sha256);
	if (plan) {
		snprintf(p->plan, sizeof(p->plan), "%s", plan);
		sha256_file(plan, p->plan_sha256);
	}
}

/* "Linux 6.1.0-57-amd64 x86_64, <CPU model>, N CPUs" */
static void host(char *buf, size_t len)
{
	struct utsname u;
	char line[256], model[128] = "unknown CPU";
	FILE *f = fopen("/proc/cpuinfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
			snprintf(model, sizeof(model), "%s", strchr(line, ':') + 2);
			model[strcspn(model, "\n")] = '\0';
			break;
		}
	if (f)
		fclose(f);
	if (uname(&u))
		memset(&u, 0, sizeof(u));
	snprintf(buf, len, "%s %s %s, %s, %ld CPUs", u.sysname, u.release, u.machine, model,
		 sysconf(_SC_NPROCESSORS_ONLN));
}

/* What is known now: the UTC start, the host, the wall duration so far. */
struct now {
	char when[32], host[512];
	double wall_s;
};

static void now(const struct cli_provenance *p, struct now *n)
{
	struct timespec t;
	struct tm tm;

	clock_gettime(CLOCK_MONOTONIC, &t);
	gmtime_r(&p->start_wall.tv_sec, &tm);
	strftime(n->when, sizeof(n->when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	host(n->host, sizeof(n->host));
	n->wall_s = (double)(t.tv_sec - p->start_mono.tv_sec) +
		    (double)(t.tv_nsec - p->start_mono.tv_nsec) / 1e9;
}

void cli_provenance_json(FILE *f, const struct cli_provenance *p, const char *end,
			 const uint64_t *seed)
{
	struct now n;

	now(p, &n);
	fprintf(f, "  \"provenance\": {\"coop\": \"%s\", \"commit\": \"%s\", \"command\": [",
		COOP_BUILD_VERSION, COOP_BUILD_COMMIT);
	cli_json_str(f, "coop");
	for (int i = 0; i < p->argc; i++) {
		fputs(", ", f);
		cli_json_str(f, p->argv[i]);
	}
	fputs("],\n                 \"kernel\": ", f);
	cli_json_str(f, p->kernel);
	fprintf(f, ", \"kernel_sha256\": \"%s\", \"plan\": ", p->kernel_sha256);
	if (p->plan[0]) {
		cli_json_str(f, p->plan);
		fprintf(f, ", \"plan_sha256\": \"%s\", ", p->plan_sha256);
	} else {
		fputs("null, \"plan_sha256\": null, ", f);
	}
	if (seed)
		fprintf(f, "\"seed\": %llu,\n", (unsigned long long)*seed);
	else
		fputs("\"seed\": null,\n", f);
	fputs("                 \"host\": ", f);
	cli_json_str(f, n.host);
	fprintf(f, ", \"started_utc\": \"%s\", \"wall_s\": %.3f, \"end\": \"%s\"},\n", n.when,
		n.wall_s, end);
}

/* The command line as a shell would take it back: arguments with specials in '...'. */
static void command_line(FILE *f, const struct cli_provenance *p)
{
	fputs("coop", f);
	for (int i = 0; i < p->argc; i++) {
		const char *a = p->argv[i];

		fputc(' ', f);
		if (a[0] && !a[strcspn(a, " \t\n'\"\\$`;&|<>()*?[]{}!#~")]) {
			fputs(a, f);
			continue;
		}
		fputc('\'', f);
		for (; *a; a++)
			fputs(*a == '\'' ? "'\\''" : (char[]){ *a, 0 }, f);
		fputc('\'', f);
	}
}

/*
 * The same as comment lines ("# key: value"), for text results such as the
 * fault log.  A malloc'ed string, or NULL (out of memory).
 */
char *cli_provenance_comment(const struct cli_provenance *p, const char *end, const uint64_t *seed)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct now n;

	if (!f)
		return NULL;
	now(p, &n);
	fprintf(f, "# coop: %s, commit %s\n# command: ", COOP_BUILD_VERSION, COOP_BUILD_COMMIT);
	command_line(f, p);
	fprintf(f, "\n# kernel: %s, sha256 %s\n", p->kernel, p->kernel_sha256);
	if (p->plan[0])
		fprintf(f, "# plan: %s, sha256 %s\n", p->plan, p->plan_sha256);
	if (seed)
		fprintf(f, "# seed: %llu\n", (unsigned long long)*seed);
	fprintf(f, "# host: %s\n# started: %s, wall %.3f s, end: %s\n", n.host, n.when, n.wall_s,
		end);
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

/* CSV: the header's provenance columns, and one row's values (each a quoted field). */
const char cli_provenance_csv_header[] = "coop,commit,command,kernel_sha256,host,started_utc,wall_s";

static void csv_field(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++)
		fputs(*s == '"' ? "\"\"" : (char[]){ *s, 0 }, f);
	fputc('"', f);
}

void cli_provenance_csv(FILE *f, const struct cli_provenance *p)
{
	char *cmd = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&cmd, &len);
	struct now n;

	now(p, &n);
	if (m) {
		command_line(m, p);
		if (fclose(m))
			cmd = NULL;
	}
	csv_field(f, COOP_BUILD_VERSION);
	fputc(',', f);
	csv_field(f, COOP_BUILD_COMMIT);
	fputc(',', f);
	csv_field(f, cmd ? cmd : "");
	fprintf(f, ",%s,", p->kernel_sha256);
	csv_field(f, n.host);
	fprintf(f, ",%s,%.3f", n.when, n.wall_s);
	free(cmd);
}
