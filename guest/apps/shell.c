/* SPDX-License-Identifier: MIT */
/*
 * shell.c - the guest's command shell on the console.  Words split on
 * blanks, with 'single' and "double" quotes and backslash; ';' separates
 * commands, '#' starts a comment.  A command is a row in shell_cmds[].
 * It runs in the boot thread, on the boot stack.
 * Try: build/bin/coop run --exec 'help; info; stats'
 */
#include "defs.h"

#define SHELL_LINE_MAX 1024 /* bytes per input line */
#define SHELL_MAX_ARGS 32   /* words per command */
#define SHELL_PROMPT "coop# "

/* A command of the shell. */
struct shell_cmd {
	const char *name;                 /* what the user types */
	int (*fn)(int argc, char **argv); /* runs it; returns its exit status */
	const char *usage;                /* its arguments, for help and errors */
	const char *help;                 /* one line on what it does */
};

static const struct shell_cmd *shell_find(const char *name);

static int usage(const char *name)
{
	const struct shell_cmd *c = shell_find(name);

	kprintf("usage: %s %s\n", name, c ? c->usage : "");
	return 2;
}

static int cmd_help(int argc, char **argv);

static int cmd_echo(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		kprintf("%s%s", i > 1 ? " " : "", argv[i]);
	kprintf("\n");
	return 0;
}

static void info_size(const char *what, uint64_t bytes, const char *tail)
{
	char size[32];

	fmt_bytes(size, sizeof(size), bytes);
	kprintf("%-10s %s%s\n", what, size, tail);
}

static int cmd_info(int argc, char **argv)
{
	const struct coop_passage *p = passage();
	const struct coop_boot_params *b = &p->boot;
	struct kalloc_stats ks;
	char free[32], tail[96];
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);

	if (argc != 1)
		return usage(argv[0]);
	kalloc_stats(&ks);
	kprintf("%-10s guest %u.%u, host %u.%u\n", "abi", COOP_ABI_MAJOR, COOP_ABI_MINOR,
		p->hdr.host_major, p->hdr.host_minor);
	ksnprintf(tail, sizeof(tail), " at %#llx", (unsigned long long)b->mem_base);
	info_size("ram", b->mem_size, tail);
	ksnprintf(tail, sizeof(tail), " at %#llx-%#llx", (unsigned long long)b->kernel_start,
		  (unsigned long long)b->kernel_end);
	info_size("kernel", b->kernel_end - b->kernel_start, tail);
	fmt_bytes(free, sizeof(free), ks.free);
	ksnprintf(tail, sizeof(tail), " at %#llx-%#llx, %s free", (unsigned long long)b->heap_start,
		  (unsigned long long)b->heap_end, free);
	info_size("heap", b->heap_end - b->heap_start, tail);
	ksnprintf(tail, sizeof(tail), " at %#llx-%#llx, %llu bytes in use",
		  (unsigned long long)b->stack_base, (unsigned long long)b->stack_top,
		  (unsigned long long)(b->stack_top - sp));
	info_size("stack", b->stack_top - b->stack_base, tail);
	kprintf("%-10s %s\n", "console", cocon_interactive() ? "interactive" : "scripted");
	kprintf("%-10s %s\n", "cmdline", cmdline_raw());
	return 0;
}

static int cmd_poweroff(int argc, char **argv)
{
	uint64_t status = 0;

	if (argc > 2)
		return usage(argv[0]);
	if (argc == 2 && (kstrtou64(argv[1], 10, &status) || status > 255)) {
		kprintf("poweroff: bad status '%s' (expected 0..255)\n", argv[1]);
		return 2;
	}
	poweroff((int)status);
}

static int cmd_panic(int argc, char **argv)
{
	char msg[256];
	size_t n = 0;
	int i;

	if (argc == 1)
		panic("requested from the shell");
	msg[0] = '\0';
	for (i = 1; i < argc && n < sizeof(msg); i++)
		n += (size_t)ksnprintf(msg + n, sizeof(msg) - n, "%s%s", i > 1 ? " " : "",
				       argv[i]);
	panic("%s", msg);
}

/* A count of milliseconds from @s (at most a day), or -1 with a message. */
static int64_t shell_ms(const char *cmd, const char *s)
{
	uint64_t ms;

	if (kstrtou64(s, 10, &ms) || ms > 86400000) {
		kprintf("%s: bad duration '%s' (expected 0..86400000 ms)\n", cmd, s);
		return -1;
	}
	return (int64_t)ms;
}

static int cmd_ticks(int argc, char **argv)
{
	if (argc != 1)
		return usage(argv[0]);
	kprintf("ticks %llu hz %u uptime_ms %llu\n", (unsigned long long)jiffies(),
		timer_hz(), (unsigned long long)(clock_ns() / 1000000));
	return 0;
}

static int cmd_sleep(int argc, char **argv)
{
	int64_t ms;

	if (argc != 2)
		return usage(argv[0]);
	if ((ms = shell_ms(argv[0], argv[1])) < 0)
		return 2;
	sleep_ms((uint64_t)ms);
	return 0;
}

/* Busy for MS ms with vIRQs on: the tick preempts us, handlers run. */
static int cmd_spin(int argc, char **argv)
{
	uint64_t end;
	int64_t ms;

	if (argc != 2)
		return usage(argv[0]);
	if ((ms = shell_ms(argv[0], argv[1])) < 0)
		return 2;
	end = clock_ns() + (uint64_t)ms * 1000000;
	while (clock_ns() < end)
		cpu_relax();
	return 0;
}

static void stats_threads(void)
{
	struct thread_info ti[16];
	int i, n = proc_threads(ti, (int)ARRAY_SIZE(ti));

	kprintf("%-12s %d\n", "threads", n);
	for (i = 0; i < n; i++)
		kprintf("  %3d %-15s %-9s %llu switches\n", ti[i].tid, ti[i].name,
			thread_state_name(ti[i].state), (unsigned long long)ti[i].switches);
}

static void stats_hypercalls(void)
{
	uint64_t counts[COOP_OP_COUNT];
	uint32_t op;

	platform_hypercall_counts(counts);
	kprintf("%-12s", "hypercalls");
	for (op = 0; op < COOP_OP_COUNT; op++)
		if (counts[op])
			kprintf(" %s=%llu", platform_op_name(op), (unsigned long long)counts[op]);
	kprintf("\n");
}

static int cmd_stats(int argc, char **argv)
{
	const struct coop_virq_state *v = &passage()->virq;
	struct virq_stats vs;
	struct msg_stats ms;

	if (argc != 1)
		return usage(argv[0]);
	virq_get_stats(&vs);
	msg_get_stats(&ms);
	kprintf("%-12s %llu (hz %u, %s)\n", "ticks", (unsigned long long)jiffies(), timer_hz(),
		timer_running() ? "running" : "off");
	kprintf("%-12s %llu delivered (%llu async entries, %llu sync, %llu spurious)\n", "virqs",
		(unsigned long long)READ_ONCE(v->delivered), (unsigned long long)vs.async,
		(unsigned long long)vs.sync, (unsigned long long)vs.spurious);
	kprintf("%-12s %llu\n", "switches", (unsigned long long)proc_switches());
	stats_threads();
	stats_hypercalls();
	kprintf("%-12s %llu sent, %llu received, %llu flushes, %llu bad\n", "messages",
		(unsigned long long)ms.sent, (unsigned long long)ms.received,
		(unsigned long long)ms.flushes, (unsigned long long)ms.bad);
	blk_print_stats();
	return 0;
}

static const struct shell_cmd shell_cmds[] = {
	{ "help", cmd_help, "", "list the commands" },
	{ "echo", cmd_echo, "[ARG...]", "print the arguments" },
	{ "info", cmd_info, "", "ABI versions, memory, console, command line" },
	{ "poweroff", cmd_poweroff, "[STATUS]", "power off with STATUS (0..255, default 0)" },
	{ "panic", cmd_panic, "[MSG]", "panic the guest kernel with MSG" },
	{ "ticks", cmd_ticks, "", "timer ticks, their frequency and the uptime" },
	{ "sleep", cmd_sleep, "MS", "block the shell for MS milliseconds" },
	{ "spin", cmd_spin, "MS", "busy-loop MS milliseconds with interrupts on" },
	{ "stats", cmd_stats, "", "ticks, vIRQs, switches, threads, hypercalls" },
	{ "crash", cmd_crash, "segv|ud|div|stack|hang|int N", "crash the guest in the way named" },
	{ "selftest", cmd_selftest, "[NAME|all]", "list the self-tests, run one or all" },
	{ "blk", cmd_blk, "SUBCMD UNIT ...",
	  "block devices: info read write verify scrub sum" },
	{ "net", cmd_net, "info|ping|echo ...",
	  "network: net info, net ping ADDR [COUNT], net echo ADDR PORT TEXT" },
#ifdef GUEST_HOSTILE
	{ "hostile", cmd_hostile, "WHAT", "the test guest's mistakes against its host" },
#endif
	{ "bench", cmd_bench, "switch|blk ...",
	  "guest halves of coop bench, in cycles: bench switch N [BATCH] (SWBENCH lines), "
	  "bench blk UNIT COUNT KIB seq|rand read|write (BLKBENCH lines)" },
};

static int cmd_help(int argc, char **argv)
{
	char syn[40];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(shell_cmds); i++) {
		ksnprintf(syn, sizeof(syn), "%s%s%s", shell_cmds[i].name,
			  *shell_cmds[i].usage ? " " : "", shell_cmds[i].usage);
		kprintf("%-20s %s\n", syn, shell_cmds[i].help);
	}
	return 0;
}

static const struct shell_cmd *shell_find(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(shell_cmds); i++)
		if (!strcmp(shell_cmds[i].name, name))
			return &shell_cmds[i];
	return NULL;
}

static int shell_exec(int argc, char **argv)
{
	const struct shell_cmd *c;

	if (argc == 0)
		return -1; /* nothing to run: the status stays */
	c = shell_find(argv[0]);
	if (!c) {
		kprintf("%s: command not found\n", argv[0]);
		return 127;
	}
	return c->fn(argc, argv);
}

/* What the lexer found. */
enum { TOK_WORD, TOK_SEP, TOK_END, TOK_ERR };

/* The lexer's state over one line, unquoted in place. */
struct shell_lex {
	char *p;         /* next byte to read */
	bool sep;        /* a ';' ended the last word: report it next */
	const char *err; /* what went wrong, for TOK_ERR */
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Next word, unquoted in place (the write pointer never passes the read
 * pointer); *word points at it.  A ';' is its own token.
 */
static int shell_token(struct shell_lex *lx, char **word)
{
	char *r = lx->p, *w, q = 0;

	if (lx->sep) {
		lx->sep = false;
		return TOK_SEP;
	}
	while (is_blank(*r))
		r++;
	if (!*r || *r == '#') {
		lx->p = r;
		return TOK_END;
	}
	if (*r == ';') {
		lx->p = r + 1;
		return TOK_SEP;
	}
	for (*word = w = r; *r; r++) {
		if (q) {
			if (*r == q)
				q = 0;
			else if (q == '"' && *r == '\\' && (r[1] == '"' || r[1] == '\\'))
				*w++ = *++r;
			else
				*w++ = *r;
		} else if (*r == '\'' || *r == '"') {
			q = *r;
		} else if (*r == '\\' && r[1]) {
			*w++ = *++r;
		} else if (is_blank(*r) || *r == ';') {
			break;
		} else {
			*w++ = *r;
		}
	}
	if (q) {
		lx->err = "unterminated quote";
		return TOK_ERR;
	}
	lx->sep = *r == ';';
	lx->p = *r ? r + 1 : r;
	*w = '\0';
	return TOK_WORD;
}

/*
 * What the shell ends with: the last command's status, as sh; for an
 * --exec script the first failing command's (poweroff ends the guest
 * with its own status before this matters).
 */
struct shell_status {
	int last;  /* the last command's status */
	int first; /* the first non-zero one, 0 while none failed */
};

static void shell_status_set(struct shell_status *st, int status)
{
	st->last = status;
	if (!st->first)
		st->first = status;
}

/* Run every command of @line, their statuses into @st. */
static void shell_line(char *line, struct shell_status *st)
{
	struct shell_lex lx = { .p = line };
	char *argv[SHELL_MAX_ARGS + 1], *word = NULL;
	int argc = 0, tok, r;

	do {
		tok = shell_token(&lx, &word);
		if (tok == TOK_ERR) {
			kprintf("shell: %s\n", lx.err);
			shell_status_set(st, 2);
			return;
		}
		if (tok == TOK_WORD) {
			if (argc == SHELL_MAX_ARGS) {
				kprintf("shell: more than %d words\n", SHELL_MAX_ARGS);
				shell_status_set(st, 2);
				return;
			}
			argv[argc++] = word;
			continue;
		}
		argv[argc] = NULL;
		r = shell_exec(argc, argv);
		if (r >= 0)
			shell_status_set(st, r);
		argc = 0;
	} while (tok != TOK_END);
}

/*
 * Read and run commands until the console's input ends; returns the
 * status the caller powers off with: the last command's (0 if none), as
 * sh exits with it - but for an --exec script the first failing
 * command's, so that a failed write early in a script is not hidden by
 * the echo after it.  (A script that wants otherwise says poweroff N.)
 */
int shell_run(void)
{
	static char line[SHELL_LINE_MAX];
	struct shell_status st = { 0, 0 };
	int n;

	for (;;) {
		n = cocon_readline(SHELL_PROMPT, line, sizeof(line));
		if (n == COCON_EOF)
			return cocon_exec() ? st.first : st.last;
		if (n < 0) {
			kprintf("shell: line longer than %d bytes\n", SHELL_LINE_MAX - 1);
			shell_status_set(&st, 2);
			continue;
		}
		shell_line(line, &st);
	}
}
