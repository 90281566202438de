/* SPDX-License-Identifier: MIT */
/*
 * hostile.c - `hostile WHAT`: the mistakes a guest kernel under development
 * makes against its host, one per subcommand, compiled only into the test
 * guest coop-guest-hostile (tests/guest/CMakeLists.txt).  The host must
 * survive each: the guest goes on, or it is ended with a crash report
 * (exit 3) -- never coop itself.  tests/integration/hostile.sh runs them.
 */
#include "defs.h"

/*
 * DF and AC set across a hypercall: the host's C code must not run with
 * them (a backwards memcpy over the host heap; a SIGBUS on the host's first
 * unaligned access).  Only this asm runs between setting them and the
 * switch; the host's way back leaves them clear.
 */
static int hostile_flags(void)
{
	for (int i = 0; i < 100; i++) {
		__asm__ volatile("pushfq; orq $0x40400, (%%rsp); popfq" ::: "memory", "cc");
		platform_nop();
		__asm__ volatile("cld" ::: "memory", "cc"); /* ours again, whatever came back */
	}
	kprintf("hostile flags: 100 hypercalls with DF and AC set, the host is fine\n");
	return 0;
}

/* Breakpoint, single step, icebp: SIGTRAP on the user backend. */
static __attribute__((noipa)) void hostile_int3(void)
{
	__asm__ volatile("int3");
}

static __attribute__((noipa)) void hostile_tf(void)
{
	__asm__ volatile("pushfq; orq $0x100, (%%rsp); popfq; nop" ::: "memory", "cc");
}

static __attribute__((noipa)) void hostile_icebp(void)
{
	__asm__ volatile(".byte 0xf1");
}

/*
 * Virtual interrupts on, every vector masked, no hypercall: the guest takes
 * no interrupt and makes no progress.  The watchdog must see it.
 */
static __attribute__((noipa)) void hostile_maskall(void)
{
	struct coop_virq_state *v = &passage()->virq;

	for (int i = 0; i < 4; i++)
		WRITE_ONCE(v->masked[i], ~0ull);
	irq_enable();
	for (;;)
		cpu_relax();
}

/*
 * A hypercall straight through the passage, as platform.c's but without
 * its drain: what the host put into the to_guest window stays there.
 */
typedef void switch_fn(struct coop_cpu_context *save, struct coop_cpu_context *load);

static void raw_hypercall(uint32_t code, const void *params, size_t len)
{
	struct coop_passage *p = passage();

	if (len)
		memcpy(&p->op.params, params, len);
	p->op.code = code;
	p->op.result = 0;
	p->op.seq++;
	__asm__ volatile("" ::: "memory");
	((switch_fn *)(uintptr_t)p->hdr.switch_to_host)(&p->guest, &p->host);
	__asm__ volatile("" ::: "memory");
}

/*
 * Take nothing from the to_guest window for @s seconds: vIF off, only null
 * hypercalls (progress, so the watchdog stays quiet).  Console input the
 * host reads meanwhile has to wait: the host must not read without bound.
 */
static int hostile_stall(const char *arg)
{
	uint64_t sec = 0, end;
	uint32_t flags;

	if (kstrtou64(arg, 10, &sec) || sec > 600) {
		kprintf("hostile stall: SECONDS, 0..600\n");
		return 2;
	}
	kprintf("hostile stall: taking nothing for %s s\n", arg);
	msg_flush(); /* the host prints it: the test knows the stall has begun */
	end = clock_ns() + sec * 1000000000ull;
	flags = irq_save();

	while (clock_ns() < end)
		raw_hypercall(COOP_OP_NOP, NULL, 0);
	irq_restore(flags); /* and the next hypercall drains what waited */
	kprintf("hostile stall: took nothing for %s s\n", arg);
	return 0;
}

/*
 * cobd INFO requests on unit 0, sent and sent, their replies never taken
 * (vIF off, the window never drained): the host must end the guest before
 * its queue of replies eats the host's memory.
 */
static void hostile_flood(void)
{
	struct coop_cobd_request req = { .op = COOP_COBD_INFO };
	struct coop_op_message m = { .count = 1 };

	irq_disable();
	for (uint64_t seq = 1;; seq++) {
		msg_send_seq(COOP_DEV_COBD, 0, COOP_COBD_REQUEST, seq, 0, &req, sizeof(req));
		raw_hypercall(COOP_OP_MESSAGE, &m, sizeof(m));
	}
}

/*
 * Scribble over passage->host, where hosts before ABI 1.5 kept their own
 * context: a stray memset by a guest under development would have sent the
 * host to 0xcccccccccccccccc.  The host keeps it elsewhere now.
 */
static int hostile_scribble(void)
{
	struct coop_passage *p = passage();

	for (int i = 0; i < 10; i++) {
		memset(&p->host, 0xcc, sizeof(p->host));
		platform_nop();
	}
	kprintf("hostile scribble: passage->host overwritten 10 times, the host is fine\n");
	return 0;
}

/* A system call from guest code (getpid, with syscall): SIGSYS, a guest crash. */
static __attribute__((noipa)) long hostile_syscall(void)
{
	long ret = 39;

	__asm__ volatile("syscall" : "+a"(ret) : : "rcx", "r11", "memory");
	return ret;
}

/* The ones that should not come back: each is a guest crash, or a hang the watchdog ends. */
static const struct {
	const char *name;
	void (*fn)(void);
} fatal[] = {
	{ "int3", hostile_int3 }, { "tf", hostile_tf }, { "icebp", hostile_icebp },
	{ "maskall", hostile_maskall }, { "flood", hostile_flood },
};

int cmd_hostile(int argc, char **argv)
{
	const char *what = argc >= 2 ? argv[1] : "";

	if (!strcmp(what, "flags"))
		return hostile_flags();
	if (!strcmp(what, "scribble"))
		return hostile_scribble();
	if (!strcmp(what, "stall") && argc == 3)
		return hostile_stall(argv[2]);
	if (!strcmp(what, "syscall")) {
		kprintf("hostile syscall: getpid() = %ld: still here\n", hostile_syscall());
		return 1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(fatal); i++)
		if (!strcmp(what, fatal[i].name)) {
			fatal[i].fn();
			kprintf("hostile %s: still here\n", what);
			return 1;
		}
	kprintf("usage: hostile flags|scribble|stall SECONDS|syscall|int3|tf|icebp|maskall|flood\n");
	return 2;
}
