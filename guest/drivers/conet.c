/* SPDX-License-Identifier: MIT */
/*
 * conet.c - the network driver: one unit per COOP_DEV_CONET entry of the
 * boot device table, each with the MAC the host gave it.  Sending: one
 * COOP_CONET_FRAME message per Ethernet frame, flushed at once.  Receiving:
 * the COOP_VEC_CONET handler drains the window; each frame is copied into
 * one receive ring shared by all units, which the network thread
 * (net/eth.c) empties with conet_next_frame().  A full ring drops the
 * frame and counts it, as a NIC whose ring is full.  Try: coop run --net
 * conet0=udp:5555:127.0.0.1:5556 --exec 'net info'
 */
#include "defs.h"

#define CONET_RING 128 /* frames the ring holds */
#define CONET_ETH_HLEN 14

/* A received frame waiting for the network thread. */
struct conet_slot {
	uint16_t unit;                       /* conetN it came in on */
	uint16_t len;                        /* bytes of data */
	uint8_t data[COOP_CONET_FRAME_MAX];  /* the frame, no FCS */
};

/* One unit. */
struct conet_unit {
	bool present;            /* in the boot device table */
	uint8_t mac[6];          /* the guest's MAC on it */
	struct conet_stats st;   /* counters for `net info` */
};

static struct {
	struct conet_unit units[COOP_BOOT_MAX_DEVS]; /* by unit number */
	struct conet_slot *ring;  /* CONET_RING slots, kalloc'ed; NULL: no units */
	unsigned int head;        /* next slot to read */
	unsigned int count;       /* slots in use */
	uint64_t irqs;            /* COOP_VEC_CONET handlers run */
} conet;

/* COOP_VEC_CONET: the host put frames in to_guest; take them (conet_receive). */
static void conet_irq(unsigned int vector)
{
	(void)vector;
	conet.irqs++;
	msg_drain();
}

/* Units from the boot device table; a ring only if there is one.  Before msg_start(). */
void conet_init(void)
{
	const struct coop_boot_params *b = &passage()->boot;
	uint32_t i, n = b->ndevs < COOP_BOOT_MAX_DEVS ? b->ndevs : COOP_BOOT_MAX_DEVS;
	bool any = false;

	for (i = 0; i < n; i++) {
		const struct coop_boot_dev *d = &b->devs[i];

		if (d->device != COOP_DEV_CONET || d->unit >= COOP_BOOT_MAX_DEVS)
			continue;
		conet.units[d->unit].present = true;
		memcpy(conet.units[d->unit].mac, d->mac, sizeof(d->mac));
		any = true;
	}
	if (!any)
		return;
	conet.ring = kalloc(CONET_RING * sizeof(*conet.ring));
	if (!conet.ring)
		panic("conet: no memory for a %u-frame receive ring", CONET_RING);
	virq_register(COOP_VEC_CONET, conet_irq);
}

bool conet_present(unsigned int unit)
{
	return unit < COOP_BOOT_MAX_DEVS && conet.units[unit].present;
}

/* The MAC of @unit into @mac; false if there is no such unit. */
bool conet_mac(unsigned int unit, uint8_t mac[6])
{
	if (!conet_present(unit))
		return false;
	memcpy(mac, conet.units[unit].mac, 6);
	return true;
}

void conet_get_stats(unsigned int unit, struct conet_stats *st)
{
	uint32_t f = irq_save();

	*st = conet_present(unit) ? conet.units[unit].st : (struct conet_stats){ 0 };
	irq_restore(f);
}

/* Send one frame (14..COOP_CONET_FRAME_MAX bytes); it reaches the host before this returns. */
int conet_send(unsigned int unit, const void *frame, size_t len)
{
	struct conet_unit *u;
	uint32_t f;

	if (!conet_present(unit))
		return -EINVAL;
	if (len < CONET_ETH_HLEN || len > COOP_CONET_FRAME_MAX)
		return -E2BIG;
	u = &conet.units[unit];
	f = irq_save();
	msg_send(COOP_DEV_CONET, (uint16_t)unit, COOP_CONET_FRAME, frame, len);
	u->st.tx_frames++;
	u->st.tx_bytes += len;
	irq_restore(f);
	return msg_flush();
}

/* A message from the host's conet (msg.c calls this while draining, vif = 0). */
int conet_receive(const struct coop_msg_hdr *hdr, const void *payload)
{
	struct conet_slot *s;
	struct conet_unit *u;

	if (!conet_present(hdr->unit) || !conet.ring)
		return -EINVAL;
	if (hdr->type != COOP_CONET_FRAME)
		return -EPROTO;
	u = &conet.units[hdr->unit];
	if (hdr->length < CONET_ETH_HLEN || hdr->length > COOP_CONET_FRAME_MAX) {
		u->st.rx_bad++;
		return -EINVAL;
	}
	u->st.rx_frames++;
	u->st.rx_bytes += hdr->length;
	if (conet.count == CONET_RING) {
		u->st.rx_ring_full++; /* the network thread is behind: drop, as a NIC would */
		return 0;
	}
	s = &conet.ring[(conet.head + conet.count++) % CONET_RING];
	s->unit = hdr->unit;
	s->len = (uint16_t)hdr->length;
	memcpy(s->data, payload, hdr->length);
	wakeup(&conet);
	return 0;
}

/*
 * The next received frame, of any unit: copied into buf (COOP_CONET_FRAME_MAX
 * bytes), its unit in *unit; returns its length.  Blocks while there is none.
 */
size_t conet_next_frame(unsigned int *unit, uint8_t *buf)
{
	uint32_t f = irq_save();
	struct conet_slot *s;
	size_t len;

	while (!conet.count)
		block(&conet);
	s = &conet.ring[conet.head];
	*unit = s->unit;
	len = s->len;
	memcpy(buf, s->data, len);
	conet.head = (conet.head + 1) % CONET_RING;
	conet.count--;
	irq_restore(f);
	return len;
}
