/* SPDX-License-Identifier: MIT */
/*
 * platform.c - the thin platform layer: where the passage is and how to
 * switch to the host.  The only file that knows; a kmod backend replaces
 * it.  Every other file asks for host services through hypercall().
 */
#include "defs.h"

static uint64_t hypercalls[COOP_OP_COUNT]; /* by COOP_OP_*, for `stats` */

/* The host's switch routine (abi.h: struct coop_passage_header). */
typedef void switch_fn(struct coop_cpu_context *save, struct coop_cpu_context *load);

/* The passage is the first 64 KiB of guest RAM, at the same address on every backend. */
struct coop_passage *passage(void)
{
	return (struct coop_passage *)(uintptr_t)COOP_GUEST_BASE;
}

/*
 * Switch to the host and back.  The call saves our side in passage->guest
 * and loads the host's from passage->host; it returns when the host
 * switches back.  The barriers keep the compiler from caching passage
 * fields across it: the host writes them while we are away.
 */
static void world_switch(struct coop_passage *p)
{
	switch_fn *fn = (switch_fn *)(uintptr_t)p->hdr.switch_to_host;

	__asm__ volatile("" ::: "memory");
	fn(&p->guest, &p->host);
	__asm__ volatile("" ::: "memory");
}

/*
 * Ask the host for operation @code with @len bytes of @params.  Returns
 * the host's result (0 or -errno).  Whatever the host queued for us
 * meanwhile is delivered to the drivers before we return.
 *
 * All of it happens with vif = 0: a vIRQ handler may print or make a
 * hypercall itself, which would overwrite op.params half-way, or the
 * to_guest window while we drain it.  Vectors the host raised meanwhile
 * are delivered when the caller's vif comes back (irq_restore).
 */
int hypercall(uint32_t code, const void *params, size_t len)
{
	struct coop_passage *p = passage();
	uint32_t flags = irq_save();
	int result;

	if (len > sizeof(p->op.params))
		len = sizeof(p->op.params); /* callers pass their own typed struct */
	if (len)
		memcpy(&p->op.params, params, len);
	p->op.code = code;
	p->op.result = 0;
	p->op.seq++;
	world_switch(p);
	result = p->op.result;
	hypercalls[code < COOP_OP_COUNT ? code : COOP_OP_NONE]++;
	msg_drain();
	irq_restore(flags);
	return result;
}

/* Hypercalls made so far, by operation. */
void platform_hypercall_counts(uint64_t counts[COOP_OP_COUNT])
{
	uint32_t flags = irq_save();

	memcpy(counts, hypercalls, sizeof(hypercalls));
	irq_restore(flags);
}

const char *platform_op_name(uint32_t code)
{
	static const char *const names[COOP_OP_COUNT] = {
		[COOP_OP_NONE] = "none",           [COOP_OP_HELLO] = "hello",
		[COOP_OP_IDLE] = "idle",           [COOP_OP_MESSAGE] = "message",
		[COOP_OP_TERMINATE] = "terminate", [COOP_OP_PANIC] = "panic",
		[COOP_OP_TIMER] = "timer",         [COOP_OP_IRQ_ENABLE] = "irq_enable",
		[COOP_OP_NOP] = "nop",
	};

	return code < COOP_OP_COUNT && names[code] ? names[code] : "unknown";
}

/*
 * The ABI version we announce at the handshake.  Only a test kernel
 * (coop-guest-badhello, tests/integration/abi_handshake.sh) lies here, to
 * show that the host refuses a guest whose handshake does not match.
 */
#ifndef GUEST_HELLO_MAJOR
#define GUEST_HELLO_MAJOR COOP_ABI_MAJOR
#endif

/* The boot handshake: our ABI version, before anything else. */
int platform_hello(void)
{
	struct coop_passage *p = passage();

	struct coop_op_hello h = { .major = GUEST_HELLO_MAJOR, .minor = COOP_ABI_MINOR };

	p->hdr.guest_major = GUEST_HELLO_MAJOR;
	p->hdr.guest_minor = COOP_ABI_MINOR;
	return hypercall(COOP_OP_HELLO, &h, sizeof(h));
}

/* Nothing to do: let the host run until an event (or @timeout_ns) arrives. */
int platform_idle(uint64_t timeout_ns)
{
	struct coop_op_idle idle = { .timeout_ns = timeout_ns };

	return hypercall(COOP_OP_IDLE, &idle, sizeof(idle));
}

/* A null hypercall (ABI 1.3): a bare world-switch round trip, for `bench switch`. */
int platform_nop(void)
{
	return hypercall(COOP_OP_NOP, NULL, 0);
}

/* Power off with @status; the caller flushed what it wanted the host to see. */
void platform_terminate(int status)
{
	struct coop_op_terminate t = { .status = status };

	irq_disable(); /* nothing runs after this */
	for (;;)
		hypercall(COOP_OP_TERMINATE, &t, sizeof(t));
}

/* Power off with @status once everything printed has reached the host. */
void poweroff(int status)
{
	msg_flush();
	platform_terminate(status);
}
