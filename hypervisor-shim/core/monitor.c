/* SPDX-License-Identifier: MIT */
/*
 * monitor.c - the run loop: switch to the guest, serve the operation it
 * left in the passage, switch back; until it powers off, panics or is
 * killed.  A misbehaving guest is ended with a sticky first reason
 * (lguest's kill_guest); the host itself never trusts a guest value.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/shim.h"

const char *shim_op_name(uint32_t code)
{
	static const char *const names[COOP_OP_COUNT] = {
		[COOP_OP_NONE] = "NONE",       [COOP_OP_HELLO] = "HELLO",
		[COOP_OP_IDLE] = "IDLE",       [COOP_OP_MESSAGE] = "MESSAGE",
		[COOP_OP_TERMINATE] = "TERMINATE", [COOP_OP_PANIC] = "PANIC",
	};

	return code < COOP_OP_COUNT ? names[code] : "unknown";
}

static void end_guest(struct shim_vm *vm, enum shim_vm_state state, int status, const char *fmt,
		      va_list ap)
{
	if (vm->state != SHIM_VM_RUNNING)
		return; /* the first reason sticks */
	vm->state = state;
	vm->exit_status = status;
	vsnprintf(vm->reason, sizeof(vm->reason), fmt, ap);
}

void shim_kill_guest(struct shim_vm *vm, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	end_guest(vm, SHIM_VM_KILLED, SHIM_EXIT_CRASH, fmt, ap);
	va_end(ap);
}

static __attribute__((format(printf, 2, 3))) void refuse_guest(struct shim_vm *vm,
							       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	end_guest(vm, SHIM_VM_REFUSED, SHIM_EXIT_USAGE, fmt, ap);
	va_end(ap);
}

/* Copy a guest string: bounded, NUL-terminated, control characters made visible. */
static void guest_string(char *dst, size_t len, const char *src, size_t srclen)
{
	size_t n = strnlen(src, srclen);

	if (n >= len)
		n = len - 1;
	for (size_t i = 0; i < n; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[n] = '\0';
}

static void serve_hello(struct shim_vm *vm, struct coop_op *op)
{
	struct coop_op_hello h = op->params.hello;

	if (vm->hello_done) {
		shim_kill_guest(vm, "guest repeated the ABI handshake (HELLO)");
		return;
	}
	if (h.major != COOP_ABI_MAJOR || h.minor > COOP_ABI_MINOR) {
		refuse_guest(vm, "guest kernel speaks coop ABI %u.%u; this coop speaks %u.%u", h.major,
			     h.minor, COOP_ABI_MAJOR, COOP_ABI_MINOR);
		op->result = -EPROTO;
		return;
	}
	vm->hello_done = true;
}

static void serve_terminate(struct shim_vm *vm, struct coop_op *op)
{
	int32_t status = op->params.terminate.status;

	if (status < 0 || status > 255) {
		shim_kill_guest(vm, "guest powered off with status %d (valid: 0..255)", status);
		return;
	}
	vm->state = SHIM_VM_POWERED_OFF;
	vm->exit_status = status;
}

static void serve_panic(struct shim_vm *vm, struct coop_op *op)
{
	char file[sizeof(op->params.panic.file)], msg[sizeof(op->params.panic.message)];

	guest_string(file, sizeof(file), op->params.panic.file, sizeof(op->params.panic.file));
	guest_string(msg, sizeof(msg), op->params.panic.message, sizeof(op->params.panic.message));
	shim_kill_guest(vm, "guest panic at %s:%u: %s", file, op->params.panic.line, msg);
}

static void serve(struct shim_vm *vm)
{
	struct coop_op *op = &vm->passage->op;
	uint32_t code = op->code;

	vm->stats.by_op[code < COOP_OP_COUNT ? code : COOP_OP_NONE]++;
	op->result = 0;
	if (!vm->hello_done && code != COOP_OP_HELLO) {
		shim_kill_guest(vm, "guest's first operation is %s (%u), not the ABI handshake HELLO",
				shim_op_name(code), code);
		return;
	}
	switch (code) {
	case COOP_OP_HELLO:
		serve_hello(vm, op);
		break;
	case COOP_OP_IDLE:
		if (shim_cocon_wait_input(vm))
			shim_kill_guest(vm, "guest is idle and nothing can wake it (console input ended)");
		break;
	case COOP_OP_MESSAGE:
		shim_router_serve(vm);
		break;
	case COOP_OP_TERMINATE:
		serve_terminate(vm, op);
		break;
	case COOP_OP_PANIC:
		serve_panic(vm, op);
		break;
	default:
		shim_kill_guest(vm, "guest left unknown operation %u", code);
	}
}

int shim_monitor_run(struct shim_vm *vm)
{
	struct coop_passage *p = vm->passage;

	while (vm->state == SHIM_VM_RUNNING) {
		shim_router_deliver(vm);
		vm->switch_fn(&p->host, &p->guest);
		vm->stats.switches++;
		serve(vm);
	}
	return vm->exit_status;
}
