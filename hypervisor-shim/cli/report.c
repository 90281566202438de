/* SPDX-License-Identifier: MIT */
/*
 * report.c - `coop run --report FILE`: the run's counters as JSON, with
 * the keys docs/report.md documents.  Written
 * after the guest ended, whatever the way it ended.
 */
#include <errno.h>
#include <stdio.h>

#include "cli/cli.h"
#include "core/shim.h"


const char *cli_end_name(int s)
{
	switch (s) {
	case SHIM_VM_POWERED_OFF: return "powered_off";
	case SHIM_VM_KILLED: return "crashed";
	case SHIM_VM_REFUSED: return "refused";
	case SHIM_VM_INTERRUPTED: return "interrupted";
	default: return "running";
	}
}

/*
 * A JSON string: quotes, backslashes and control characters escaped; NULL
 * is "".  Also what `coop bench` writes its JSON with (bench/output.c).
 */
void cli_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
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
		fprintf(f, "\"%s\": %llu, ", coop_op_word(op), (unsigned long long)st->by_op[op]);
	/* Host interrupts that hit guest code, but those the guest forwarded (FORWARD). */
	fprintf(f, "\"FORWARD_INTERRUPT\": %llu, \"INVALID\": %llu}},\n",
		(unsigned long long)(st->irqs_forwarded - st->by_op[COOP_OP_FORWARD]),
		(unsigned long long)st->by_op[COOP_OP_NONE]);
}

static void messages(FILE *f, const struct shim_vm *vm)
{
	const struct shim_stats *st = &vm->stats;

	fprintf(f, "  \"messages\": {");
	for (int d = COOP_DEV_MONITOR; d < COOP_DEV_COUNT; d++)
		fprintf(f,
			"\"%s\": {\"to_host\": {\"count\": %llu, \"bytes\": %llu}, "
			"\"to_guest\": {\"count\": %llu, \"bytes\": %llu}, \"errors\": %llu}, ",
			coop_dev_word(d), (unsigned long long)st->msgs[d][0],
			(unsigned long long)st->bytes[d][0], (unsigned long long)st->msgs[d][1],
			(unsigned long long)st->bytes[d][1], (unsigned long long)st->dev_errors[d]);
	fprintf(f, "\"backpressure_waits\": %llu},\n", (unsigned long long)st->backpressure_waits);
}

/* A fault kind's name as a JSON key: "io eio" -> "io_eio". */
static void kind_key(enum fault_kind k, char *key, size_t len)
{
	snprintf(key, len, "%s", fault_kind_name(k));
	for (char *c = key; *c; c++)
		*c = *c == ' ' ? '_' : *c;
}

static void outcome(FILE *f, const char *key, const struct fault_outcome *o)
{
	fprintf(f, "\"%s\": {\"injected\": %llu, \"detected\": %llu, \"recovered\": %llu, "
		   "\"harmless\": %llu, \"escaped\": %llu}",
		key, (unsigned long long)o->injected, (unsigned long long)o->detected,
		(unsigned long long)o->recovered, (unsigned long long)o->harmless,
		(unsigned long long)o->escaped);
}

/*
 * faults.<kind>.{injected,detected,recovered,harmless,escaped} summed over
 * devices (injected = detected + harmless + escaped), faults.devices.
 * <device>.<kind> for what hit each device, and faults.sites: where in the
 * host I/O faults struck.  A fault escaped when nobody noticed it and a
 * guest end-to-end check found a sector it damaged bad; escaped_total
 * counts those bad sectors (checked: sectors checked).
 */
static void faults(FILE *f, const struct shim_vm *vm)
{
	const struct shim_faults_outcome *o = vm->fault_outcome;
	uint64_t bad = vm->stats.check_bad;
	char key[32];

	fprintf(f, "  \"faults\": {");
	for (int k = 0; o && k < FAULT_KIND_COUNT; k++) {
		struct fault_outcome t = shim_faults_total(o, (enum fault_kind)k);

		kind_key((enum fault_kind)k, key, sizeof(key));
		outcome(f, key, &t);
		fprintf(f, ", ");
	}
	if (o) {
		fprintf(f, "\"devices\": {");
		for (int d = 0, nd = 0; d < FAULT_DEVS; d++) {
			const char *dname = coop_dev_word(d) ? coop_dev_word(d) : "none";
			int nk = 0;

			for (int k = 0; k < FAULT_KIND_COUNT; k++) {
				if (!o->out[d][k].injected)
					continue;
				fprintf(f, "%s", nk++ ? ", " : nd++ ? ", " : "");
				if (nk == 1)
					fprintf(f, "\"%s\": {", dname);
				kind_key((enum fault_kind)k, key, sizeof(key));
				outcome(f, key, &o->out[d][k]);
			}
			if (nk)
				fprintf(f, "}");
		}
		fprintf(f, "}, \"sites\": [");
		for (unsigned int i = 0; i < o->nsites; i++) {
			fprintf(f, "%s{\"kind\": \"%s\", \"count\": %llu, \"backtrace\": [", i ? ", " : "",
				fault_kind_name(o->sites[i].kind), (unsigned long long)o->sites[i].count);
			for (unsigned int k = 0; k < o->sites[i].depth; k++) {
				fprintf(f, "%s", k ? ", " : "");
				cli_json_str(f, o->sites[i].frame[k]);
			}
			fprintf(f, "]}");
		}
		fprintf(f, "], \"sites_lost\": %llu, \"seed\": %llu, \"host_detected\": %llu, ",
			(unsigned long long)o->sites_lost, (unsigned long long)o->seed,
			(unsigned long long)o->host_detected);
	}
	fprintf(f, "\"checked\": %llu, \"escaped_total\": %llu}\n",
		(unsigned long long)vm->stats.checked, (unsigned long long)bad);
}

int cli_report_write(const struct shim_vm *vm, const struct cli_provenance *p, const char *path)
{
	const struct shim_faults_outcome *o = vm->fault_outcome;
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fputs("{\n", f);
	cli_provenance_json(f, p, cli_end_name(vm->state), o ? &o->seed : NULL);
	fprintf(f, "  \"guest\": {\"exit_status\": %d, \"end\": \"%s\", \"reason\": ",
		vm->exit_status, cli_end_name(vm->state));
	cli_json_str(f, vm->reason);
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
