/* SPDX-License-Identifier: MIT */
/*
 * platform.c - the thin platform layer: where the passage is and how to
 * switch to the host.  The only file that knows; a kmod backend replaces
 * it.  Every other file asks for host services through hypercall().
 */
#include "defs.h"

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
 * Ask the host for operation @code; the caller has filled op.params.
 * Returns the host's result (0 or -errno).  Whatever the host queued for
 * us meanwhile is delivered to the drivers before we return.
 */
int hypercall(uint32_t code)
{
	struct coop_passage *p = passage();
	int result;

	p->op.code = code;
	p->op.result = 0;
	p->op.seq++;
	world_switch(p);
	result = p->op.result;
	msg_drain();
	return result;
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

	p->hdr.guest_major = GUEST_HELLO_MAJOR;
	p->hdr.guest_minor = COOP_ABI_MINOR;
	p->op.params.hello = (struct coop_op_hello){
		.major = GUEST_HELLO_MAJOR,
		.minor = COOP_ABI_MINOR,
	};
	return hypercall(COOP_OP_HELLO);
}

/* Nothing to do: let the host run until an event (or @timeout_ns) arrives. */
int platform_idle(uint64_t timeout_ns)
{
	passage()->op.params.idle = (struct coop_op_idle){ .timeout_ns = timeout_ns };
	return hypercall(COOP_OP_IDLE);
}

/* Power off with @status; the caller flushed what it wanted the host to see. */
void platform_terminate(int status)
{
	for (;;) {
		passage()->op.params.terminate = (struct coop_op_terminate){ .status = status };
		hypercall(COOP_OP_TERMINATE);
	}
}
