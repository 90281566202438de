/* SPDX-License-Identifier: MIT */
/*
 * net.h - the guest's small IPv4 stack over conet (drivers/conet.c):
 * Ethernet, ARP, IPv4 without fragments, ICMP echo and UDP (echo on port 7).
 * Addresses are kept in host byte order; wire headers are packed structs in
 * network order, read and written through the helpers below.  inet.c is
 * pure and also builds on the host (tests/unit/guest/test_inet.c).
 */
#ifndef GUEST_NET_H
#define GUEST_NET_H

#include "defs.h"

/* errno values of the stack (Linux numbering), one guard each as in defs.h */
#ifndef ENETUNREACH
#define ENETUNREACH 101
#endif
#ifndef ETIMEDOUT
#define ETIMEDOUT 110
#endif
#ifndef EHOSTUNREACH
#define EHOSTUNREACH 113
#endif

/* ---- byte order: the wire is big-endian, x86-64 is not -------------------- */

static inline uint16_t net_htons(uint16_t v)
{
	return __builtin_bswap16(v);
}

static inline uint32_t net_htonl(uint32_t v)
{
	return __builtin_bswap32(v);
}

#define net_ntohs net_htons
#define net_ntohl net_htonl

/* ---- wire formats ---------------------------------------------------------- */

#define ETH_ALEN 6
#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806
#define IP_HLEN 20    /* without options: what we send */
#define IP_PROTO_ICMP 1
#define IP_PROTO_UDP 17
#define IP_DF 0x4000     /* frag_off: do not fragment */
#define IP_MF 0x2000     /* frag_off: more fragments */
#define IP_OFFMASK 0x1fff /* frag_off: fragment offset */
#define ICMP_HLEN 8
#define ICMP_ECHOREPLY 0
#define ICMP_ECHO 8
#define UDP_HLEN 8
#define UDP_PORT_ECHO 7  /* RFC 862 */
#define NET_L4_OFF (ETH_HLEN + IP_HLEN) /* where our own packets' payload starts */
#define NET_L4_MAX (COOP_CONET_FRAME_MAX - NET_L4_OFF) /* bytes of it at most */

struct eth_hdr {
	uint8_t dst[ETH_ALEN]; /* destination MAC */
	uint8_t src[ETH_ALEN]; /* source MAC */
	uint16_t type;         /* EtherType, network order */
} __attribute__((packed));

struct arp_pkt {
	uint16_t htype;         /* 1: Ethernet */
	uint16_t ptype;         /* ETH_P_IP */
	uint8_t hlen;           /* 6 */
	uint8_t plen;           /* 4 */
	uint16_t op;            /* 1 request, 2 reply */
	uint8_t sha[ETH_ALEN];  /* sender MAC */
	uint8_t spa[4];         /* sender IPv4, network order */
	uint8_t tha[ETH_ALEN];  /* target MAC */
	uint8_t tpa[4];         /* target IPv4, network order */
} __attribute__((packed));

struct ip_hdr {
	uint8_t ver_ihl;   /* version 4 << 4 | header length in words */
	uint8_t tos;       /* type of service */
	uint16_t len;      /* total length, header included */
	uint16_t id;       /* identification */
	uint16_t frag_off; /* flags and fragment offset */
	uint8_t ttl;       /* time to live */
	uint8_t proto;     /* IP_PROTO_* */
	uint16_t csum;     /* header checksum */
	uint32_t src;      /* source address, network order */
	uint32_t dst;      /* destination address, network order */
} __attribute__((packed));

struct icmp_hdr {
	uint8_t type;  /* ICMP_ECHO, ICMP_ECHOREPLY, ... */
	uint8_t code;  /* 0 for echo */
	uint16_t csum; /* over the whole ICMP message */
	uint16_t id;   /* echo: identifier */
	uint16_t seq;  /* echo: sequence number */
} __attribute__((packed));

struct udp_hdr {
	uint16_t sport; /* source port */
	uint16_t dport; /* destination port */
	uint16_t len;   /* header + data */
	uint16_t csum;  /* over pseudo-header, header and data; 0: none */
} __attribute__((packed));

_Static_assert(sizeof(struct eth_hdr) == ETH_HLEN, "Ethernet header");
_Static_assert(sizeof(struct arp_pkt) == 28, "ARP packet");
_Static_assert(sizeof(struct ip_hdr) == IP_HLEN, "IPv4 header");
_Static_assert(sizeof(struct icmp_hdr) == ICMP_HLEN, "ICMP header");
_Static_assert(sizeof(struct udp_hdr) == UDP_HLEN, "UDP header");

/* ---- interfaces ------------------------------------------------------------ */

/* Why the stack threw a frame away (counted per interface, shown by `net info`). */
enum net_drop {
	DROP_NOT_US,     /* Ethernet destination neither ours nor broadcast */
	DROP_ETHERTYPE,  /* neither IPv4 nor ARP */
	DROP_ARP_BAD,    /* malformed or not Ethernet/IPv4 ARP */
	DROP_IP_BAD,     /* bad version, length or header checksum */
	DROP_IP_FRAG,    /* a fragment: we do not reassemble */
	DROP_IP_OTHER,   /* IPv4 for another address */
	DROP_IP_PROTO,   /* neither ICMP nor UDP */
	DROP_ICMP_BAD,   /* short or bad checksum */
	DROP_ICMP_OTHER, /* a type we do not answer, or an echo reply nobody waits for */
	DROP_UDP_BAD,    /* short, bad length or bad checksum */
	DROP_UDP_PORT,   /* no service on that port */
	DROP_NO_ARP,     /* outgoing: the next hop did not answer ARP */
	DROP_COUNT
};

/* An IPv4 interface on a conet unit. */
struct netif {
	bool up;                  /* the unit exists */
	unsigned int unit;        /* conetN */
	uint8_t mac[ETH_ALEN];    /* from the boot device table */
	uint32_t ip;              /* our address, host order; 0: none configured */
	unsigned int prefix;      /* prefix length, 0..32 */
	uint32_t mask;            /* netmask from prefix, host order */
	uint16_t ip_id;           /* identification of the next packet we send */
	uint64_t drops[DROP_COUNT]; /* by enum net_drop */
};

#define NET_IFS COOP_BOOT_MAX_DEVS

/* inet.c (pure) */
uint32_t inet_sum(uint32_t sum, const void *buf, size_t len);
uint16_t inet_fold(uint32_t sum);
int inet_parse(const char *s, uint32_t *ip);
int inet_parse_cidr(const char *s, uint32_t *ip, unsigned int *prefix);
uint32_t inet_mask(unsigned int prefix);
void inet_format(uint32_t ip, char *buf, size_t size);
void mac_format(const uint8_t mac[ETH_ALEN], char *buf, size_t size);
uint16_t get_be16(const void *p);
uint32_t get_be32(const void *p);
void put_be16(void *p, uint16_t v);
void put_be32(void *p, uint32_t v);

/* eth.c */
extern const uint8_t eth_broadcast[ETH_ALEN];
struct netif *netif_get(unsigned int unit);
struct netif *netif_route(uint32_t dst);
void net_drop(struct netif *ifp, enum net_drop why);
const char *net_drop_name(enum net_drop why);
int eth_send(struct netif *ifp, const uint8_t dst[ETH_ALEN], uint16_t type, uint8_t *frame,
	     size_t len);

/* arp.c */
void arp_input(struct netif *ifp, const uint8_t *pkt, size_t len);
int arp_resolve(struct netif *ifp, uint32_t ip, uint8_t mac[ETH_ALEN]);

/* ipv4.c */
void ip_input(struct netif *ifp, const uint8_t *frame, size_t len);
int ip_send(struct netif *ifp, const uint8_t dst_mac[ETH_ALEN], uint32_t dst, uint8_t proto,
	    uint8_t *frame, size_t l4len);
int ip_route(uint32_t dst, struct netif **ifp, uint8_t mac[ETH_ALEN]);

/* icmp.c */
void icmp_input(struct netif *ifp, const uint8_t *frame, size_t l4off, size_t l4len);
int icmp_ping(uint32_t dst, uint16_t seq, size_t datalen, uint64_t timeout_ns,
	      uint64_t *rtt_ns, size_t *got_len);

/* udp.c */
void udp_input(struct netif *ifp, const uint8_t *frame, size_t l4off, size_t l4len);
int udp_request(uint32_t dst, uint16_t dport, const void *data, size_t len, void *reply,
		size_t size, uint64_t timeout_ns);

#endif /* GUEST_NET_H */
