/* SPDX-License-Identifier: MIT */
/*
 * ipv4.c - IPv4 (RFC 791) without fragmentation: a received packet is
 * checked (version, lengths, header checksum) and handed to ICMP or UDP if
 * it is for our address; fragments are dropped and counted.  Packets we
 * send have a 20-byte header, DF set, TTL 64, and go to on-link
 * destinations only (no gateway).
 */
#include "net.h"

#define IP_TTL 64

/* Check the header of the packet after the Ethernet header; its header length, or 0. */
static size_t ip_check(struct netif *ifp, const struct ip_hdr *ip, size_t len)
{
	size_t ihl, tot;

	if (len < IP_HLEN || (ip->ver_ihl >> 4) != 4) {
		net_drop(ifp, DROP_IP_BAD);
		return 0;
	}
	ihl = (size_t)(ip->ver_ihl & 0xf) * 4;
	tot = net_ntohs(ip->len);
	if (ihl < IP_HLEN || tot < ihl || tot > len || inet_fold(inet_sum(0, ip, ihl)) != 0) {
		net_drop(ifp, DROP_IP_BAD);
		return 0;
	}
	if (net_ntohs(ip->frag_off) & (IP_MF | IP_OFFMASK)) {
		net_drop(ifp, DROP_IP_FRAG); /* no reassembly */
		return 0;
	}
	return ihl;
}

/* A received IPv4 frame (@len bytes, Ethernet header included). */
void ip_input(struct netif *ifp, const uint8_t *frame, size_t len)
{
	const struct ip_hdr *ip = (const struct ip_hdr *)(frame + ETH_HLEN);
	size_t ihl = ip_check(ifp, ip, len - ETH_HLEN), l4len;

	if (!ihl)
		return;
	if (!ifp->ip || net_ntohl(ip->dst) != ifp->ip) {
		net_drop(ifp, DROP_IP_OTHER);
		return;
	}
	/* Ethernet pads short frames: the IP length, not the frame's, ends the packet. */
	l4len = net_ntohs(ip->len) - ihl;
	switch (ip->proto) {
	case IP_PROTO_ICMP:
		icmp_input(ifp, frame, ETH_HLEN + ihl, l4len);
		break;
	case IP_PROTO_UDP:
		udp_input(ifp, frame, ETH_HLEN + ihl, l4len);
		break;
	default:
		net_drop(ifp, DROP_IP_PROTO);
	}
}

/*
 * Send @l4len bytes already at frame + NET_L4_OFF to @dst (via @dst_mac),
 * filling in the IPv4 and Ethernet headers.
 */
int ip_send(struct netif *ifp, const uint8_t dst_mac[ETH_ALEN], uint32_t dst, uint8_t proto,
	    uint8_t *frame, size_t l4len)
{
	struct ip_hdr *ip = (struct ip_hdr *)(frame + ETH_HLEN);
	uint16_t id = __atomic_fetch_add(&ifp->ip_id, 1, __ATOMIC_RELAXED);

	if (l4len > NET_L4_MAX)
		return -E2BIG;
	*ip = (struct ip_hdr){
		.ver_ihl = 4 << 4 | IP_HLEN / 4,
		.len = net_htons((uint16_t)(IP_HLEN + l4len)),
		.id = net_htons(id),
		.frag_off = net_htons(IP_DF),
		.ttl = IP_TTL,
		.proto = proto,
		.src = net_htonl(ifp->ip),
		.dst = net_htonl(dst),
	};
	ip->csum = net_htons(inet_fold(inet_sum(0, ip, IP_HLEN)));
	return eth_send(ifp, dst_mac, ETH_P_IP, frame, NET_L4_OFF + l4len);
}

/* Where to send to @dst: its interface and next hop's MAC (blocks for ARP). */
int ip_route(uint32_t dst, struct netif **ifp, uint8_t mac[ETH_ALEN])
{
	*ifp = netif_route(dst);
	if (!*ifp)
		return -ENETUNREACH;
	return arp_resolve(*ifp, dst, mac);
}
