/* SPDX-License-Identifier: MIT */
/*
 * arp.c - ARP (RFC 826) for IPv4 over Ethernet: answer requests for our
 * address, learn the sender of a request for us and of every reply, and
 * resolve an address for sending (a small cache; a request sent again
 * after ARP_WAIT_MS, ARP_TRIES times).  The cache is shared by the network
 * thread and the shell: touched with vif = 0.
 */
#include "net.h"

#define ARP_CACHE 16          /* entries */
#define ARP_TRIES 3           /* requests before giving up */
#define ARP_WAIT_MS 400       /* per request */
#define ARP_POLL_MS 2         /* how often a resolver looks at the cache */
#define ARP_HTYPE_ETHER 1
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2

/* A known neighbour. */
struct arp_entry {
	unsigned int unit;     /* interface it is on */
	uint32_t ip;           /* its address, host order; 0: free */
	uint8_t mac[ETH_ALEN]; /* its MAC */
	uint64_t used;         /* clock_ns() of the last update: oldest is replaced */
};

static struct arp_entry cache[ARP_CACHE];

/* The entry for ip on unit, or NULL; vif = 0. */
static struct arp_entry *arp_find(unsigned int unit, uint32_t ip)
{
	unsigned int i;

	for (i = 0; i < ARP_CACHE; i++)
		if (cache[i].ip == ip && cache[i].unit == unit)
			return &cache[i];
	return NULL;
}

/* Remember ip -> mac; a new entry only if @create (else just refresh). */
static void arp_update(unsigned int unit, uint32_t ip, const uint8_t mac[ETH_ALEN], bool create)
{
	uint32_t f = irq_save();
	struct arp_entry *e = arp_find(unit, ip);
	unsigned int i;

	if (!e && create) {
		e = &cache[0];
		for (i = 1; i < ARP_CACHE; i++)
			if (!cache[i].ip || (e->ip && cache[i].used < e->used))
				e = &cache[i];
	}
	if (e) {
		*e = (struct arp_entry){ .unit = unit, .ip = ip, .used = clock_ns() };
		memcpy(e->mac, mac, ETH_ALEN);
	}
	irq_restore(f);
}

/* Send an ARP packet: @op to @tha/@tpa, from us. */
static int arp_send(struct netif *ifp, uint16_t op, const uint8_t dst[ETH_ALEN],
		    const uint8_t tha[ETH_ALEN], uint32_t tpa)
{
	uint8_t frame[ETH_HLEN + sizeof(struct arp_pkt) + 18]; /* padded to 60 bytes */
	struct arp_pkt *a = (struct arp_pkt *)(frame + ETH_HLEN);

	memset(frame, 0, sizeof(frame));
	a->htype = net_htons(ARP_HTYPE_ETHER);
	a->ptype = net_htons(ETH_P_IP);
	a->hlen = ETH_ALEN;
	a->plen = 4;
	a->op = net_htons(op);
	memcpy(a->sha, ifp->mac, ETH_ALEN);
	put_be32(a->spa, ifp->ip);
	memcpy(a->tha, tha, ETH_ALEN);
	put_be32(a->tpa, tpa);
	return eth_send(ifp, dst, ETH_P_ARP, frame, sizeof(frame));
}

/* A received ARP packet (@len bytes after the Ethernet header). */
void arp_input(struct netif *ifp, const uint8_t *pkt, size_t len)
{
	const struct arp_pkt *a = (const struct arp_pkt *)pkt;
	uint32_t spa, tpa;
	uint16_t op;

	if (len < sizeof(*a) || net_ntohs(a->htype) != ARP_HTYPE_ETHER ||
	    net_ntohs(a->ptype) != ETH_P_IP || a->hlen != ETH_ALEN || a->plen != 4) {
		net_drop(ifp, DROP_ARP_BAD);
		return;
	}
	op = net_ntohs(a->op);
	spa = get_be32(a->spa);
	tpa = get_be32(a->tpa);
	if (!ifp->ip || (op != ARP_OP_REQUEST && op != ARP_OP_REPLY)) {
		net_drop(ifp, DROP_ARP_BAD);
		return;
	}
	/* RFC 826: refresh what we know; learn whoever asks for us or answers us. */
	if (spa)
		arp_update(ifp->unit, spa, a->sha, tpa == ifp->ip);
	if (op == ARP_OP_REQUEST && tpa == ifp->ip)
		arp_send(ifp, ARP_OP_REPLY, a->sha, a->sha, spa);
}

/* The cached MAC of ip on ifp into mac: true if known. */
static bool arp_lookup(struct netif *ifp, uint32_t ip, uint8_t mac[ETH_ALEN])
{
	uint32_t f = irq_save();
	struct arp_entry *e = arp_find(ifp->unit, ip);

	if (e)
		memcpy(mac, e->mac, ETH_ALEN);
	irq_restore(f);
	return e != NULL;
}

/*
 * The MAC of @ip on @ifp: from the cache, or ask (broadcast) and wait for
 * the answer, ARP_TRIES times.  Blocks the caller (not the network thread,
 * which must be free to take the answer): 0 or -EHOSTUNREACH.
 */
int arp_resolve(struct netif *ifp, uint32_t ip, uint8_t mac[ETH_ALEN])
{
	static const uint8_t zero[ETH_ALEN];
	uint64_t until;
	int tries;

	for (tries = 0; tries < ARP_TRIES; tries++) {
		if (arp_lookup(ifp, ip, mac))
			return 0;
		arp_send(ifp, ARP_OP_REQUEST, eth_broadcast, zero, ip);
		until = clock_ns() + ARP_WAIT_MS * 1000000ull;
		while (clock_ns() < until) {
			if (arp_lookup(ifp, ip, mac))
				return 0;
			sleep_ms(ARP_POLL_MS);
		}
	}
	net_drop(ifp, DROP_NO_ARP);
	return -EHOSTUNREACH;
}
