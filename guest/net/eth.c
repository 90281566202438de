/* SPDX-License-Identifier: MIT */
/*
 * eth.c - interfaces and Ethernet: one netif per conet unit, its address
 * from the command line (ip=ADDR/PREFIX for conet0, ip1= for conet1, ...),
 * and the network thread that takes received frames from the driver and
 * hands them to ARP or IPv4.  Replies the stack makes (ARP, echo) are sent
 * from that thread; `net ping` and `net echo` send from the shell's.
 * Try: coop run --net conet0=udp:5555:127.0.0.1:5556 --cmdline ip=10.0.0.2/24 --exec 'net info'
 */
#include "net.h"

const uint8_t eth_broadcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static struct netif netifs[NET_IFS];

static const char *const drop_names[DROP_COUNT] = {
	[DROP_NOT_US] = "not_for_us",     [DROP_ETHERTYPE] = "ethertype",
	[DROP_ARP_BAD] = "arp_bad",       [DROP_IP_BAD] = "ip_bad",
	[DROP_IP_FRAG] = "ip_fragment",   [DROP_IP_OTHER] = "ip_not_ours",
	[DROP_IP_PROTO] = "ip_protocol",  [DROP_ICMP_BAD] = "icmp_bad",
	[DROP_ICMP_OTHER] = "icmp_other", [DROP_UDP_BAD] = "udp_bad",
	[DROP_UDP_PORT] = "udp_no_port",  [DROP_NO_ARP] = "arp_unresolved",
};

const char *net_drop_name(enum net_drop why)
{
	return (unsigned int)why < DROP_COUNT ? drop_names[why] : "?";
}

/* Count a dropped frame; both threads drop, so one locked add. */
void net_drop(struct netif *ifp, enum net_drop why)
{
	__atomic_fetch_add(&ifp->drops[why], 1, __ATOMIC_RELAXED);
}

struct netif *netif_get(unsigned int unit)
{
	return unit < NET_IFS && netifs[unit].up ? &netifs[unit] : NULL;
}

/* The interface whose subnet holds @dst (on-link only: no gateways). */
struct netif *netif_route(uint32_t dst)
{
	unsigned int i;

	for (i = 0; i < NET_IFS; i++) {
		struct netif *ifp = &netifs[i];

		if (ifp->up && ifp->ip && ((dst ^ ifp->ip) & ifp->mask) == 0)
			return ifp;
	}
	return NULL;
}

/* Fill in the Ethernet header of @frame (@len bytes in all) and send it. */
int eth_send(struct netif *ifp, const uint8_t dst[ETH_ALEN], uint16_t type, uint8_t *frame,
	     size_t len)
{
	struct eth_hdr *e = (struct eth_hdr *)frame;

	memcpy(e->dst, dst, ETH_ALEN);
	memcpy(e->src, ifp->mac, ETH_ALEN);
	e->type = net_htons(type);
	return conet_send(ifp->unit, frame, len);
}

/* One received frame: for us (or broadcast)? then ARP or IPv4. */
static void eth_input(struct netif *ifp, const uint8_t *frame, size_t len)
{
	const struct eth_hdr *e = (const struct eth_hdr *)frame;

	if (memcmp(e->dst, ifp->mac, ETH_ALEN) && memcmp(e->dst, eth_broadcast, ETH_ALEN)) {
		net_drop(ifp, DROP_NOT_US); /* multicast (IPv6 ND, mDNS ...) included */
		return;
	}
	switch (net_ntohs(e->type)) {
	case ETH_P_ARP:
		arp_input(ifp, frame + ETH_HLEN, len - ETH_HLEN);
		break;
	case ETH_P_IP:
		ip_input(ifp, frame, len);
		break;
	default:
		net_drop(ifp, DROP_ETHERTYPE);
	}
}

/* The network thread: every received frame, in order. */
static void net_thread(void *arg)
{
	uint8_t *buf = arg;
	unsigned int unit;
	size_t len;

	for (;;) {
		len = conet_next_frame(&unit, buf);
		if (netif_get(unit))
			eth_input(&netifs[unit], buf, len);
	}
}

/* The address of unit @i from `ip=` (unit 0) or `ipN=`; logged if it is bad. */
static void netif_config(struct netif *ifp)
{
	char key[8];
	const char *s;

	if (ifp->unit == 0)
		ksnprintf(key, sizeof(key), "ip");
	else
		ksnprintf(key, sizeof(key), "ip%u", ifp->unit);
	s = cmdline_get(key);
	if (!s)
		return;
	if (inet_parse_cidr(s, &ifp->ip, &ifp->prefix) || !ifp->ip) {
		printk("net: %s=%s is not ADDR/PREFIX: conet%u has no address", key, s, ifp->unit);
		ifp->ip = 0;
		return;
	}
	ifp->mask = inet_mask(ifp->prefix);
}

/* An interface per conet unit, and the network thread.  After proc_init(). */
void net_init(void)
{
	unsigned int i;
	bool any = false;
	uint8_t *buf;
	int tid;

	for (i = 0; i < NET_IFS; i++) {
		struct netif *ifp = &netifs[i];

		if (!conet_mac(i, ifp->mac))
			continue;
		ifp->up = true;
		ifp->unit = i;
		ifp->ip_id = (uint16_t)rdtsc_ordered();
		netif_config(ifp);
		any = true;
	}
	if (!any)
		return;
	buf = kalloc(COOP_CONET_FRAME_MAX);
	tid = buf ? thread_create(net_thread, buf, "net") : -ENOMEM;
	if (tid < 0)
		panic("net: no network thread (%d)", tid);
}
