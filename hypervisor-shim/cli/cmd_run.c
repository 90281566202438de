/* SPDX-License-Identifier: MIT */
/*
 * cmd_run.c - `coop run`: parse the options, create the guest, run the
 * monitor, report how the guest ended.  Exit status: the guest's power-off
 * status, 2 for bad input, 3 when the guest crashed, 1 when the host failed.
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/monitor.h"
#include "core/shim.h"
#include "trace/trace.h"
#include "util/util.h"

static const char run_usage[] =
	"usage: coop run [options]\n"
	"\n"
	"Boot a guest kernel as a coroutine of this process and run it until it\n"
	"powers off.  Without --exec the guest shell reads the console: a terminal\n"
	"(raw mode, the guest echoes), or piped stdin line by line, powering off at\n"
	"the end of input.\n"
	"\n"
	"options:\n"
	"  --backend user|kmod   how worlds switch: user (default), a coroutine in this\n"
	"                        process; kmod, ring 0 through coop.ko (/dev/coop, root)\n"
	"  --kernel PATH         guest kernel ELF (default: coop-guest.elf beside coop);\n"
	"                        a Linux vmlinux (--backend kmod only) is recognised by\n"
	"                        its .note.coop\n"
	"  --mem SIZE            guest RAM, e.g. 64M, 1G (default 64M, at least 4M; a\n"
	"                        Linux guest: all of the module's physical region)\n"
	"  --cmdline STRING      guest kernel command line (at most 511 bytes); a Linux\n"
	"                        guest's is appended to its defaults (docs/cli.md)\n"
	"  --initrd PATH         an initramfs for a Linux guest (at the top of its RAM)\n"
	"  --disk cobdN=PATH[,ro][,offset=BYTES|,partition=N]\n"
	"                        a block device from a raw image (repeatable)\n"
	"  --net conetN=tap:IFNAME|udp:LPORT:RHOST:RPORT|unix:PATH[:PEER]\n"
	"                        a network device (repeatable)\n"
	"  --console stdio|pty|unix:PATH\n"
	"                        where the guest console is (default stdio)\n"
	"  --exec 'CMD; CMD'     run these guest-shell commands, then power off with\n"
	"                        the first failing command's status (or poweroff's)\n"
	"  --switch-mode MODE    default: callee-saved registers + MXCSR/x87 CW;\n"
	"                        full: every register, flags, FS/GS base, xsave area\n"
	"  --watchdog SECONDS    end a guest that makes no hypercall and takes no\n"
	"                        vIRQ this long (default 5; 0: never)\n"
	"  --report FILE         write the run's counters as JSON\n"
	"  --faults PLAN         inject the faults of this plan (coop faults check PLAN)\n"
	"  --seed N              the faults' seed, instead of the plan's\n"
	"  --fault-log FILE      write one line per injected fault (for replay checks)\n"
	"  --trace DIR           record an LTTng trace of this run's coop:* events into\n"
	"                        DIR, new or empty (coop runs the session; view:\n"
	"                        babeltrace2 DIR)\n"
	"  --force               with --trace: DIR may hold a trace already; it is replaced\n"
	"  -h, --help            this text\n"
	"\n"
	"exit status: the guest's power-off status (0-255); 1 host failure;\n"
	"2 bad option, file or guest image; 3 guest crashed or panicked.\n";

enum { OPT_BACKEND = 256, OPT_KERNEL, OPT_MEM, OPT_CMDLINE, OPT_CONSOLE, OPT_EXEC, OPT_SWITCH,
       OPT_WATCHDOG, OPT_DISK, OPT_NET, OPT_REPORT, OPT_TRACE, OPT_FAULTS, OPT_SEED,
       OPT_FAULT_LOG, OPT_FORCE, OPT_INITRD };

static const struct option run_options[] = {
	{ "backend", required_argument, NULL, OPT_BACKEND },
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "mem", required_argument, NULL, OPT_MEM },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "console", required_argument, NULL, OPT_CONSOLE },
	{ "exec", required_argument, NULL, OPT_EXEC },
	{ "switch-mode", required_argument, NULL, OPT_SWITCH },
	{ "watchdog", required_argument, NULL, OPT_WATCHDOG },
	{ "disk", required_argument, NULL, OPT_DISK },
	{ "net", required_argument, NULL, OPT_NET },
	{ "report", required_argument, NULL, OPT_REPORT },
	{ "faults", required_argument, NULL, OPT_FAULTS },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "fault-log", required_argument, NULL, OPT_FAULT_LOG },
	{ "trace", required_argument, NULL, OPT_TRACE },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static __attribute__((format(printf, 1, 2))) int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("coop run: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return SHIM_EXIT_USAGE;
}

static int parse_mem(const char *arg, uint64_t *mem)
{
	uint64_t host = cli_host_ram(), limit = host && host < COOP_MEM_MAX ? host : COOP_MEM_MAX;
	char have[32], min[32];

	cli_format_size(limit, have, sizeof(have));
	cli_format_size(COOP_MEM_MIN, min, sizeof(min));
	if (cli_parse_size(arg, mem) == -ERANGE)
		return usage_error("--mem %s: more than this host allows (%s)", arg, have);
	if (cli_parse_size(arg, mem))
		return usage_error("--mem %s: not a size (expected e.g. 64M, 512M, 1G)", arg);
	if (*mem < COOP_MEM_MIN)
		return usage_error("--mem %s: less than the minimum of %s", arg, min);
	if (*mem > limit)
		return usage_error("--mem %s: more than this host allows (%s)", arg, have);
	*mem = (*mem + COOP_PAGE_SIZE - 1) & ~(uint64_t)(COOP_PAGE_SIZE - 1);
	return 0;
}

/*
 * "--watchdog 2.5" -> ns; 0 switches it off; at most a day.  Digits with
 * at most one '.' and nothing else: strtod would also take " 5", "0x10",
 * "1e3" and "infinity".
 */
static int parse_seconds(const char *arg, uint64_t *ns)
{
	size_t digits = strspn(arg, "0123456789"), frac = 0;
	double s;

	if (arg[digits] == '.')
		frac = strspn(arg + digits + 1, "0123456789") + 1;
	if (!digits && frac < 2)
		goto bad;
	if (arg[digits + frac])
		goto bad;
	s = strtod(arg, NULL);
	if (s > 86400)
		goto bad;
	*ns = (uint64_t)(s * 1e9);
	return 0;
bad:
	return usage_error("--watchdog %s: expected seconds from 0 to 86400", arg);
}

/* coop-guest.elf in the directory coop runs from. */
const char *cli_default_kernel(void)
{
	static char path[PATH_MAX];

	return coop_beside_exe("coop-guest.elf", path, sizeof(path)) ? "coop-guest.elf" : path;
}

static int parse_one(int opt, struct shim_config *cfg)
{
	switch (opt) {
	case OPT_BACKEND:
		if (!strcmp(optarg, "kmod"))
			cfg->backend = SHIM_BACKEND_KMOD;
		else if (!strcmp(optarg, "user"))
			cfg->backend = SHIM_BACKEND_USER;
		else
			return usage_error("--backend %s: unknown backend (expected user or kmod)", optarg);
		return 0;
	case OPT_KERNEL:
		cfg->kernel = optarg;
		return 0;
	case OPT_MEM:
		return parse_mem(optarg, &cfg->mem_size);
	case OPT_INITRD:
		cfg->initrd = optarg;
		return 0;
	case OPT_CMDLINE:
		if (strlen(optarg) >= COOP_CMDLINE_MAX)
			return usage_error("--cmdline: %zu bytes, at most %d", strlen(optarg),
					   COOP_CMDLINE_MAX - 1);
		cfg->cmdline = optarg;
		return 0;
	case OPT_CONSOLE:
		if (strcmp(optarg, "stdio") && strcmp(optarg, "pty") && strncmp(optarg, "unix:", 5))
			return usage_error("--console %s: unknown console (expected stdio, pty or unix:PATH)",
					   optarg);
		cfg->console = optarg;
		return 0;
	case OPT_DISK:
		if (cfg->ndisks == COOP_BOOT_MAX_DEVS)
			return usage_error("--disk %s: at most %d disks", optarg, COOP_BOOT_MAX_DEVS);
		cfg->disks[cfg->ndisks++] = optarg;
		return 0;
	case OPT_NET:
		if (cfg->nnets == COOP_BOOT_MAX_DEVS)
			return usage_error("--net %s: at most %d network devices", optarg,
					   COOP_BOOT_MAX_DEVS);
		cfg->nets[cfg->nnets++] = optarg;
		return 0;
	case OPT_REPORT:
		cfg->report = optarg;
		cfg->stop_on_signals = true; /* Ctrl-C must not lose the report */
		return 0;
	case OPT_FAULTS:
		cfg->faults = optarg;
		return 0;
	case OPT_FAULT_LOG:
		cfg->fault_log = optarg;
		return 0;
	case OPT_SEED:
		if (coop_parse_u64(optarg, UINT64_MAX, &cfg->seed))
			return usage_error("--seed %s: expected a number from 0 to 2^64-1", optarg);
		cfg->has_seed = true;
		return 0;
	case OPT_TRACE:
		if (!*optarg)
			return usage_error("--trace: expected a directory");
		cfg->trace = optarg;
		cfg->stop_on_signals = true; /* Ctrl-C must not lose the trace */
		return 0;
	case OPT_FORCE:
		cfg->trace_force = true;
		return 0;
	case OPT_EXEC:
		cfg->exec = optarg;
		return 0;
	case OPT_WATCHDOG:
		return parse_seconds(optarg, &cfg->watchdog_ns);
	case OPT_SWITCH:
		if (host_switch_mode_parse(optarg, &cfg->switch_mode))
			return usage_error("--switch-mode %s: expected default or full", optarg);
		return 0;
	}
	return SHIM_EXIT_USAGE;
}

static int parse_args(int argc, char **argv, struct shim_config *cfg)
{
	int opt, rc;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":h", run_options, NULL)) != -1) {
		if (opt == 'h') {
			fputs(run_usage, stdout);
			exit(0);
		}
		if (opt == '?')
			return usage_error("unknown option '%s' (see 'coop run --help')",
					   argv[optind - 1]);
		if (opt == ':')
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		rc = parse_one(opt, cfg);
		if (rc)
			return rc;
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s' (see 'coop run --help')", argv[optind]);
	return 0;
}

static int report_end(const struct shim_vm *vm, int status)
{
	switch (vm->state) {
	case SHIM_VM_KILLED:
		fprintf(stderr, "coop: %s\n", vm->reason);
		if (vm->report)
			fputs(vm->report, stderr);
		break;
	case SHIM_VM_REFUSED:
		fprintf(stderr, "coop: --kernel: %s\n", vm->reason);
		break;
	case SHIM_VM_INTERRUPTED:
		fprintf(stderr, "coop: %s\n", vm->reason);
		break;
	default:
		break;
	}
	return status;
}

/* --trace DIR: record from before the guest boots; 0, or an exit status. */
/* nftw: remove one file or (emptied) directory of a tree. */
static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

/*
 * A trace holds one run: DIR must be new or empty, or, with --force, the
 * trace in it (LTTng's ust/ tree) goes first, so that no stream of an
 * earlier run is left beside this run's.  0, or an exit status.
 */
static int trace_dir_check(const struct shim_config *cfg)
{
	char ust[PATH_MAX];
	struct dirent *e;
	struct stat sb;
	bool empty = true;
	DIR *d;

	if (stat(cfg->trace, &sb)) {
		if (errno == ENOENT)
			return 0;
		return usage_error("--trace %s: %s", cfg->trace, strerror(errno));
	}
	if (!S_ISDIR(sb.st_mode))
		return usage_error("--trace %s: exists and is not a directory", cfg->trace);
	d = opendir(cfg->trace);
	if (!d)
		return usage_error("--trace %s: %s", cfg->trace, strerror(errno));
	while (empty && (e = readdir(d)))
		empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
	closedir(d);
	if (empty)
		return 0;
	if (!cfg->trace_force)
		return usage_error("--trace %s: not empty (a trace holds one run: name a new "
				   "directory, or add --force to replace the trace in it)", cfg->trace);
	snprintf(ust, sizeof(ust), "%s/ust", cfg->trace);
	if (nftw(ust, remove_one, 16, FTW_DEPTH | FTW_PHYS) && errno != ENOENT) {
		fprintf(stderr, "coop run: --trace %s --force: cannot remove the old trace: %s\n",
			cfg->trace, strerror(errno));
		return SHIM_EXIT_FAILURE;
	}
	return 0;
}

static int trace_begin(const struct shim_config *cfg, struct coop_trace_session *ts)
{
	char err[SHIM_ERR_MAX];
	int rc;

	if (!cfg->trace)
		return cfg->trace_force ? usage_error("--force: only with --trace DIR") : 0;
	rc = trace_dir_check(cfg);
	if (rc)
		return rc;
	rc = coop_trace_start(ts, cfg->trace, err, sizeof(err));
	if (!rc)
		return 0;
	fprintf(stderr, "coop run: --trace %s: %s\n", cfg->trace, err);
	return rc == -ENOENT ? COOP_TRACE_EXIT_MISSING : SHIM_EXIT_FAILURE;
}

/*
 * Close the trace: stop (flushing every event), destroy, and say what the
 * tracer lost.  The host's interrupts are off by now, so nothing breaks the
 * session daemon's replies.  Returns rc, or a failure if it was 0.
 */
static int trace_end(struct coop_trace_session *ts, struct shim_stats *st, int rc)
{
	struct coop_trace_stats ts_st;
	char err[SHIM_ERR_MAX];

	if (coop_trace_stop(ts, &ts_st, err, sizeof(err))) {
		fprintf(stderr, "coop run: --trace %s: %s\n", ts->dir, err);
		rc = rc ? rc : SHIM_EXIT_FAILURE;
	}
	st->traced = true;
	st->trace_discarded = ts_st.discarded_events;
	if (ts_st.discarded_events || ts_st.lost_packets)
		fprintf(stderr, "coop: the tracer discarded %llu events (%llu packets lost): the trace "
				"in %s is incomplete\n", (unsigned long long)ts_st.discarded_events,
			(unsigned long long)ts_st.lost_packets, ts->dir);
	return rc;
}

int coop_cmd_run(int argc, char **argv)
{
	struct coop_trace_session ts = { .active = false };
	struct shim_config cfg = {
		.trap_guest_syscalls = true,
		.cmdline = "",
		.switch_mode = COOP_SWITCH_DEFAULT,
		.watchdog_ns = 5000000000ull,
	};
	struct cli_provenance prov;
	struct shim_vm vm;
	char err[SHIM_ERR_MAX];
	int rc;

	cli_provenance_begin(&prov, argc, argv);
	rc = parse_args(argc, argv, &cfg);
	if (rc)
		return rc;
	if (!cfg.kernel)
		cfg.kernel = cli_default_kernel();
	if (cfg.report || cfg.fault_log || cfg.trace) /* results that carry it: hash inputs once */
		cli_provenance_inputs(&prov, cfg.kernel, cfg.faults);
	rc = trace_begin(&cfg, &ts);
	if (rc)
		return rc;
	rc = shim_vm_create(&vm, &cfg, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "coop run: %s\n", err);
		if (cfg.trace)
			trace_end(&ts, &vm.stats, 0);
		/* -ENODEV: the kmod backend's module is missing or refused. */
		return rc == -ENOMEM || rc == -ENODEV ? SHIM_EXIT_FAILURE : SHIM_EXIT_USAGE;
	}
	rc = shim_monitor_run(&vm);
	if (cfg.trace) {
		host_irq_fini(&vm); /* again in shim_vm_destroy: harmless */
		rc = trace_end(&ts, &vm.stats, rc);
	}
	rc = report_end(&vm, rc);
	if (vm.faults) {
		char *where = cli_provenance_comment(&prov, cli_end_name(vm.state), NULL);

		shim_faults_close(&vm, where);
		free(where);
	}
	shim_faults_summary(&vm, stderr);
	if (cfg.report && cli_report_write(&vm, &prov, cfg.report)) {
		fprintf(stderr, "coop run: --report %s: %s\n", cfg.report, strerror(errno));
		rc = rc ? rc : SHIM_EXIT_FAILURE;
	}
	if (cfg.trace) { /* the trace says where it came from: its run's report beside it */
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/" COOP_TRACE_REPORT, cfg.trace);
		if (cli_report_write(&vm, &prov, path)) {
			fprintf(stderr, "coop run: --trace: %s: %s\n", path, strerror(errno));
			rc = rc ? rc : SHIM_EXIT_FAILURE;
		}
	}
	shim_vm_destroy(&vm);
	return rc;
}
