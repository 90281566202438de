/* SPDX-License-Identifier: MIT */
/*
 * router.c - the message path.  Guest->host: validate every message in
 * the to_host window and hand it to the backend of its device.  Host->
 * guest: queue, then move into the to_guest window as room allows.  A
 * full window never loses a message: it stays queued (back-pressure),
 * and the wait is counted.  Every message each way, and every wait, is a
 * tracepoint (coop:message, coop:backpressure).  The fault layer sits on
 * both paths and answers with what to pass on (pass_on); it never calls
 * back here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/shim.h"
#include "trace/trace.h"

/* Monitor messages: the guest's end-to-end check results. */
static void monitor_from_guest(struct shim_vm *vm, const struct coop_msg_hdr *h,
			       const uint8_t *payload)
{
	struct coop_mon_check c;
	struct coop_mon_failed fl;
	struct coop_mon_bad b;

	if (h->type == COOP_MON_FAILED && h->length == sizeof(fl)) {
		memcpy(&fl, payload, sizeof(fl));
		if (vm->faults)
			shim_faults_failed(vm, fl.device, fl.unit, fl.seq);
		return;
	}
	if (h->type == COOP_MON_BAD && h->length == sizeof(b)) {
		memcpy(&b, payload, sizeof(b));
		if (vm->faults)
			shim_faults_bad_sector(vm, b.device, b.unit, b.sector);
		return;
	}
	if (h->type != COOP_MON_CHECK || h->length != sizeof(c)) {
		shim_kill_guest(vm, "monitor: message type %u with %u bytes is not a check, "
				"failure or bad-sector report", h->type, h->length);
		return;
	}
	memcpy(&c, payload, sizeof(c));
	if (c.bad > c.checked) {
		shim_kill_guest(vm, "monitor: check report of %llu bad in %llu checked",
				(unsigned long long)c.bad, (unsigned long long)c.checked);
		return;
	}
	shim_faults_check(vm, c.checked, c.bad);
}

static const struct shim_device shim_monitor_device = {
	.id = COOP_DEV_MONITOR,
	.from_guest = monitor_from_guest,
};

/* The backend of device id (COOP_DEV_*): the monitor's own, or one vm.c opened; or NULL. */
static const struct shim_device *backend_of(const struct shim_vm *vm, unsigned int id)
{
	if (id == COOP_DEV_MONITOR)
		return &shim_monitor_device;
	return id < COOP_DEV_COUNT ? vm->devices[id] : NULL;
}

static void enqueue(struct shim_vm *vm, struct shim_msg *m);
static bool dispatch(struct shim_vm *vm, const struct shim_msg *m);

/*
 * Pass on, in order, what the fault layer handed back: to the guest's
 * queue, or to a device.  What a device cannot take is dropped and the
 * layer told; once the guest has ended, the rest is dropped too.
 */
static void pass_on(struct shim_vm *vm, struct shim_msg_list *l)
{
	struct shim_msg *m, *next;

	for (m = l->head; m; m = next) {
		next = m->next;
		if (vm->state != SHIM_VM_RUNNING) {
			free(m);
		} else if (m->to_guest) {
			enqueue(vm, m);
		} else {
			if (!dispatch(vm, m))
				shim_faults_refused(vm, m);
			free(m);
		}
	}
	shim_msg_list_init(l);
}

/*
 * coop:message for guest message h as the host takes it from the window.
 * Its device reads the block transfer, if any, from the payload - but not
 * of a message that failed its CRC: nothing in that one is to be believed.
 */
static void trace_to_host(struct shim_vm *vm, const struct coop_msg_hdr *h,
			  const uint8_t *payload, bool crc_ok)
{
	struct shim_msg_io io = { 0 };
	const struct shim_device *d;

	if (!coop_trace_enabled(message))
		return;
	d = backend_of(vm, h->device);
	if (crc_ok && d && d->io_of)
		io = d->io_of(h, payload);
	coop_trace_do(message, COOP_TRACE_TO_HOST, h->device, h->unit, h->type, h->seq, h->length,
		      crc_ok, io.op, io.sector, io.bytes);
}

/* Check one message header at window offset off; 0 or kill + -EPROTO. */
static int check_msg(struct shim_vm *vm, unsigned int i, const struct coop_msg_hdr *h,
		     const uint8_t *payload, uint32_t room)
{
	if (h->src != COOP_EP_GUEST || h->dst != COOP_EP_HOST)
		shim_kill_guest(vm, "message %u: endpoints %u->%u, expected guest->host", i, h->src,
				h->dst);
	else if (h->length > COOP_MSG_MAX_PAYLOAD)
		shim_kill_guest(vm, "message %u: payload of %u bytes (at most %u)", i, h->length,
				COOP_MSG_MAX_PAYLOAD);
	else if (coop_msg_size(h->length) > room)
		shim_kill_guest(vm, "message %u: %u payload bytes run past the window", i, h->length);
	else if (!backend_of(vm, h->device))
		shim_kill_guest(vm, "message %u: no such device %u", i, h->device);
	else if (!(h->flags & COOP_MSG_F_NOCRC) && shim_msg_crc(h, payload) != h->crc32c) {
		trace_to_host(vm, h, payload, false);
		shim_kill_guest(vm, "message %u (%s seq %llu): CRC32C mismatch", i,
				coop_dev_word(h->device), (unsigned long long)h->seq);
	} else {
		trace_to_host(vm, h, payload, true);
		return 0;
	}
	return -EPROTO;
}

void shim_router_serve(struct shim_vm *vm)
{
	struct coop_passage *p = vm->passage;
	struct coop_msg_window *w = &p->to_host;
	uint32_t count = w->count, bytes = w->bytes, off = 0;

	if (bytes > sizeof(w->data)) {
		shim_kill_guest(vm, "to_host window claims %u bytes (holds %zu)", bytes,
				sizeof(w->data));
		return;
	}
	if (count != p->op.params.message.count) {
		shim_kill_guest(vm, "MESSAGE announces %u messages, the window holds %u",
				p->op.params.message.count, count);
		return;
	}
	for (unsigned int i = 0; i < count; i++) {
		struct coop_msg_hdr h;
		const uint8_t *payload = w->data + off + sizeof(h);

		if (bytes - off < sizeof(h)) {
			shim_kill_guest(vm, "message %u: header runs past the window's %u bytes", i,
					bytes);
			return;
		}
		memcpy(&h, w->data + off, sizeof(h));
		if (check_msg(vm, i, &h, payload, bytes - off))
			return;
		vm->stats.msgs[h.device][0]++;
		vm->stats.bytes[h.device][0] += h.length;
		/*
		 * The fault layer may drop, damage, duplicate or hold it back --
		 * not the monitor's reports: they are the experiment's instruments.
		 */
		if (!vm->faults || h.device == COOP_DEV_MONITOR) {
			backend_of(vm, h.device)->from_guest(vm, &h, payload);
		} else {
			struct shim_msg_list out;
			bool pass;

			shim_msg_list_init(&out);
			pass = shim_faults_to_host(vm, &h, payload, &out);
			pass_on(vm, &out);
			if (pass && vm->state == SHIM_VM_RUNNING)
				backend_of(vm, h.device)->from_guest(vm, &h, payload);
		}
		if (vm->state != SHIM_VM_RUNNING)
			return;
		off += coop_msg_size(h.length);
	}
	if (off != bytes) {
		shim_kill_guest(vm, "to_host window claims %u bytes, its %u messages take %u", bytes,
				count, off);
		return;
	}
	w->count = 0;
	w->bytes = 0;
}

int shim_router_send(struct shim_vm *vm, uint16_t device, uint16_t unit, uint16_t type,
		     const void *payload, uint32_t len)
{
	return shim_router_reply(vm, device, unit, type, ++vm->to_guest_seq, payload, len, NULL);
}

/*
 * A message whose seq is given: a reply carries its request's id, and io
 * the block transfer that request asked for (NULL: none), for the trace.
 */
int shim_router_reply(struct shim_vm *vm, uint16_t device, uint16_t unit, uint16_t type,
		      uint64_t seq, const void *payload, uint32_t len, const struct shim_msg_io *io)
{
	struct shim_msg *m;

	if (len > COOP_MSG_MAX_PAYLOAD)
		return -EMSGSIZE;
	m = malloc(sizeof(*m) + len);
	if (!m)
		return -ENOMEM;
	m->next = NULL;
	m->hdr = (struct coop_msg_hdr){
		.src = COOP_EP_HOST,
		.dst = COOP_EP_GUEST,
		.device = device,
		.unit = unit,
		.type = type,
		.length = len,
		.seq = seq,
	};
	if (len)
		memcpy(m->payload, payload, len);
	m->hdr.crc32c = shim_msg_crc(&m->hdr, m->payload);
	m->sent = m->hdr;
	m->io = io ? *io : (struct shim_msg_io){ 0 };
	m->to_guest = true;
	m->damaged = -1;
	/* After the CRC: damage on the way is what it must catch. */
	if (vm->faults && device != COOP_DEV_MONITOR) {
		struct shim_msg_list out;

		shim_msg_list_init(&out);
		shim_faults_to_guest(vm, m, backend_of(vm, device), &out);
		pass_on(vm, &out);
	} else {
		enqueue(vm, m);
	}
	return 0;
}

/* Append m to the host->guest queue; a device over its bound ends the guest. */
static void enqueue(struct shim_vm *vm, struct shim_msg *m)
{
	uint16_t dev = m->sent.device; /* the device it was sent for, whatever the damage */

	if (vm->queued[dev] >= SHIM_QUEUE_MAX) {
		shim_kill_guest(vm, "%s%u: %u messages wait for room in the to_guest window: the guest "
				"keeps sending but does not take what it gets", coop_dev_word(dev),
				m->sent.unit, vm->queued[dev]);
		free(m);
		return;
	}
	vm->queued[dev]++;
	m->next = NULL;
	*vm->queue_tail = m;
	vm->queue_tail = &m->next;
	if (vm->faults)
		shim_faults_overtaken(vm, 1);
}

/*
 * Hand a guest->host message the fault layer held back or copied to its
 * device.  It is checked like any message, but what fails is dropped
 * (false) instead of ending the guest: damage done by the fault layer is
 * not the guest's doing.
 */
static bool dispatch(struct shim_vm *vm, const struct shim_msg *m)
{
	const struct coop_msg_hdr *h = &m->hdr;

	if (h->length > COOP_MSG_MAX_PAYLOAD || !backend_of(vm, h->device) ||
	    h->src != COOP_EP_GUEST || h->dst != COOP_EP_HOST ||
	    (!(h->flags & COOP_MSG_F_NOCRC) && shim_msg_crc(h, m->payload) != h->crc32c))
		return false;
	if (vm->faults)
		shim_faults_dispatching(vm, true);
	backend_of(vm, h->device)->from_guest(vm, h, m->payload);
	if (vm->faults && shim_faults_dispatching(vm, false))
		return false; /* the device refused it: dropped, as a damaged message */
	if (vm->faults)
		shim_faults_overtaken(vm, 0);
	return true;
}

/*
 * Pass on what the fault layer held back and is due now; returns ns until
 * the next is (0: none held).
 */
uint64_t shim_router_release(struct shim_vm *vm)
{
	struct shim_msg_list due;
	uint64_t next;

	shim_msg_list_init(&due);
	next = shim_faults_release(vm, &due);
	pass_on(vm, &due);
	return next;
}

void shim_router_deliver(struct shim_vm *vm)
{
	struct coop_msg_window *w = &vm->passage->to_guest;
	const struct shim_device *d;
	struct shim_msg *m;

	if (w->bytes > sizeof(w->data) || (w->bytes % COOP_MSG_ALIGN)) {
		shim_kill_guest(vm, "to_guest window corrupted by the guest (%u bytes)", w->bytes);
		return;
	}
	while ((m = vm->queue_head)) {
		uint32_t size = coop_msg_size(m->hdr.length);

		if (size > sizeof(w->data) - w->bytes) {
			vm->stats.backpressure_waits++; /* stays queued: never dropped */
			coop_trace(backpressure, m->hdr.device, m->hdr.unit, m->hdr.length,
				   (uint32_t)(sizeof(w->data) - w->bytes));
			return;
		}
		coop_msg_append(w, &m->hdr, m->payload);
		/* Accounted to the device it was sent for, whatever the fault layer did to it. */
		vm->stats.msgs[m->sent.device][1]++;
		vm->stats.bytes[m->sent.device][1] += m->hdr.length;
		coop_trace(message, COOP_TRACE_TO_GUEST, m->sent.device, m->sent.unit, m->sent.type,
			   m->sent.seq, m->hdr.length, 1, m->io.op, m->io.sector, m->io.bytes);
		/* Each device has its vector, raised for what it put in the window. */
		if (coop_dev_vector(m->sent.device))
			shim_faults_raise(vm, coop_dev_vector(m->sent.device));
		vm->queue_head = m->next;
		if (!vm->queue_head)
			vm->queue_tail = &vm->queue_head;
		vm->queued[m->sent.device]--;
		d = backend_of(vm, m->sent.device);
		if (d && d->delivered)
			d->delivered(vm, &m->sent);
		free(m);
	}
}

void shim_router_free(struct shim_vm *vm)
{
	struct shim_msg *m;

	while ((m = vm->queue_head)) {
		vm->queue_head = m->next;
		free(m);
	}
	vm->queue_tail = &vm->queue_head;
	memset(vm->queued, 0, sizeof(vm->queued));
}
