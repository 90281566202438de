/* SPDX-License-Identifier: MIT */
/*
 * report.c - `coop run --report FILE`: the run's counters as JSON, with
 * the keys ../shared/CLI.md promises (documented in the README).  Written
 * after the guest ended, whatever the way it ended.
 */
#include <errno.h>
#include <stdio.h>

#include "core/shim.h"

static const char *const dev_names[COOP_DEV_COUNT] = {
	[COOP_DEV_MONITOR] = "monitor", [COOP_DEV_COCON] = "cocon",
	[COOP_DEV_COBD] = "cobd",       [COOP_DEV_CONET] = "conet",
};

static const char *end_name(enum shim_vm_state s)
{
	switch (s) {
	case SHIM_VM_POWERED_OFF: return "powered_off";
	case SHIM_VM_KILLED: return "crashed";
	case SHIM_VM_REFUSED: return "refused";
	case SHIM_VM_INTERRUPTED: return "interrupted";
	default: return "running";
	}
}

/* A JSON string: quotes, backslashes and control characters escaped. */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void switches(FILE *f, const struct shim_vm *vm)
{
	const struct shim_stats *st = &vm->stats;

	fprintf(f, "  \"switches\": {\"total\": %llu, \"by_reason\": {",
		(unsigned long long)st->switches);
	for (uint32_t op = COOP_OP_HELLO; op < COOP_OP_COUNT; op++)
		fprintf(f, "\"%s\": %llu, ", shim_op_name(op), (unsigned long long)st->by_op[op]);
	fprintf(f, "\"FORWARD_INTERRUPT\": %llu, \"INVALID\": %llu}},\n",
		(unsigned long long)st->irqs_forwarded, (unsigned long long)st->by_op[COOP_OP_NONE]);
}

static void messages(FILE *f, const struct shim_vm *vm)
{
	const struct shim_stats *st = &vm->stats;

	fprintf(f, "  \"messages\": {");
	for (int d = COOP_DEV_MONITOR; d < COOP_DEV_COUNT; d++)
		fprintf(f,
			"\"%s\": {\"to_host\": {\"count\": %llu, \"bytes\": %llu}, "
			"\"to_guest\": {\"count\": %llu, \"bytes\": %llu}, \"errors\": %llu}, ",
			dev_names[d], (unsigned long long)st->msgs[d][0],
			(unsigned long long)st->bytes[d][0], (unsigned long long)st->msgs[d][1],
			(unsigned long long)st->bytes[d][1], (unsigned long long)st->dev_errors[d]);
	fprintf(f, "\"backpressure_waits\": %llu},\n", (unsigned long long)st->backpressure_waits);
}

/*
 * faults.<kind>.{injected,detected,recovered,harmless,escaped}: escaped is
 * what the guest's end-to-end checks found bad although nothing reported
 * an error; only corruption changes data silently, so it is counted there.
 */
static void faults(FILE *f, const struct shim_vm *vm)
{
	const struct shim_fault_outcome *o = vm->fault_outcome;

	fprintf(f, "  \"faults\": {");
	for (int k = 0; o && k < FAULT_KIND_COUNT; k++) {
		char key[32];

		snprintf(key, sizeof(key), "%s", fault_kind_name((enum fault_kind)k));
		for (char *c = key; *c; c++)
			*c = *c == ' ' ? '_' : *c;
		fprintf(f, "\"%s\": {\"injected\": %llu, \"detected\": %llu, \"recovered\": %llu, "
			   "\"harmless\": %llu, \"escaped\": %llu}, ",
			key, (unsigned long long)o->out[k].injected,
			(unsigned long long)o->out[k].detected,
			(unsigned long long)o->out[k].recovered,
			(unsigned long long)o->out[k].harmless,
			(unsigned long long)(k == FAULT_CORRUPT ? vm->stats.check_bad : 0));
	}
	if (o)
		fprintf(f, "\"seed\": %llu, \"host_detected\": %llu, ", (unsigned long long)o->seed,
			(unsigned long long)o->host_detected);
	fprintf(f, "\"checked\": %llu, \"escaped_total\": %llu}\n",
		(unsigned long long)vm->stats.checked, (unsigned long long)vm->stats.check_bad);
}

int shim_report_write(const struct shim_vm *vm, const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fprintf(f, "{\n  \"guest\": {\"exit_status\": %d, \"end\": \"%s\", \"reason\": ",
		vm->exit_status, end_name(vm->state));
	json_str(f, vm->reason);
	fprintf(f, "},\n");
	switches(f, vm);
	fprintf(f, "  \"irqs\": {\"forwarded\": %llu, \"delivered\": %llu},\n",
		(unsigned long long)vm->stats.irqs_forwarded,
		(unsigned long long)vm->stats.irqs_delivered);
	messages(f, vm);
	fprintf(f, "  \"console\": {\"dropped_bytes\": %llu},\n",
		(unsigned long long)vm->stats.console_dropped);
	if (vm->stats.traced) /* events the tracer lost are never hidden */
		fprintf(f, "  \"trace\": {\"discarded_events\": %llu},\n",
			(unsigned long long)vm->stats.trace_discarded);
	faults(f, vm);
	fprintf(f, "}\n");
	return fclose(f) ? -errno : 0;
}
