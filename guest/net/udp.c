/* SPDX-License-Identifier: MIT */
/*
 * udp.c - UDP (RFC 768): the echo service on port 7 (RFC 862: every
 * datagram back, byte for byte) and udp_request(), which sends one datagram
 * from a fresh port and waits for one answer to it (the shell's `net echo`).
 * Checksums are checked when present and always sent.
 */
#include "net.h"

#define UDP_EPHEMERAL 49152 /* first source port of udp_request() */
#define UDP_POLL_MS 1       /* how often a requester looks for its answer */

/* The one datagram udp_request() waits for; shared with the network thread (vif = 0). */
static struct {
	bool active;    /* a request waits */
	bool got;       /* ... and its answer came */
	uint32_t peer;  /* the address it went to */
	uint16_t port;  /* our source port */
	uint16_t rport; /* its destination port: the answer's source */
	uint8_t *buf;   /* where the answer goes */
	size_t size;    /* room in buf */
	size_t len;     /* bytes of the answer (cut at size) */
} req;

/* The checksum over the pseudo-header, header and data (host order, 0 sent as 0xffff). */
static uint16_t udp_csum(uint32_t src, uint32_t dst, const void *udp, size_t len)
{
	uint8_t pseudo[12];
	uint16_t c;

	put_be32(pseudo, src);
	put_be32(pseudo + 4, dst);
	pseudo[8] = 0;
	pseudo[9] = IP_PROTO_UDP;
	put_be16(pseudo + 10, (uint16_t)len);
	c = inet_fold(inet_sum(inet_sum(0, pseudo, sizeof(pseudo)), udp, len));
	return c ? c : 0xffff;
}

/* Fill the UDP header of a datagram whose data already sits after it, and send it. */
static int udp_send(struct netif *ifp, const uint8_t mac[ETH_ALEN], uint32_t dst,
		    uint16_t sport, uint16_t dport, uint8_t *frame, size_t datalen)
{
	struct udp_hdr *u = (struct udp_hdr *)(frame + NET_L4_OFF);
	size_t len = UDP_HLEN + datalen;

	if (len > NET_L4_MAX)
		return -E2BIG;
	*u = (struct udp_hdr){ .sport = net_htons(sport), .dport = net_htons(dport),
			       .len = net_htons((uint16_t)len) };
	u->csum = net_htons(udp_csum(ifp->ip, dst, u, len));
	return ip_send(ifp, mac, dst, IP_PROTO_UDP, frame, len);
}

/* Port 7: the same bytes back to where they came from. */
static void udp_echo(struct netif *ifp, const uint8_t *frame, const struct udp_hdr *u,
		     size_t datalen)
{
	static uint8_t out[COOP_CONET_FRAME_MAX]; /* the network thread's only */
	const struct eth_hdr *e = (const struct eth_hdr *)frame;
	const struct ip_hdr *ip = (const struct ip_hdr *)(frame + ETH_HLEN);

	if (UDP_HLEN + datalen > NET_L4_MAX)
		return; /* came with IP options and fills the frame: cannot fit ours */
	memcpy(out + NET_L4_OFF + UDP_HLEN, u + 1, datalen);
	udp_send(ifp, e->src, net_ntohl(ip->src), UDP_PORT_ECHO, net_ntohs(u->sport), out,
		 datalen);
}

/* The answer udp_request() waits for? Then take it. */
static bool udp_answer(uint32_t src, const struct udp_hdr *u, size_t datalen)
{
	uint32_t f = irq_save();
	bool ours = req.active && !req.got && src == req.peer &&
		    net_ntohs(u->dport) == req.port && net_ntohs(u->sport) == req.rport;

	if (ours) {
		req.len = datalen < req.size ? datalen : req.size;
		memcpy(req.buf, u + 1, req.len);
		req.got = true;
	}
	irq_restore(f);
	return ours;
}

void udp_input(struct netif *ifp, const uint8_t *frame, size_t l4off, size_t l4len)
{
	const struct udp_hdr *u = (const struct udp_hdr *)(frame + l4off);
	const struct ip_hdr *ip = (const struct ip_hdr *)(frame + ETH_HLEN);
	uint32_t src = net_ntohl(ip->src);
	size_t ulen;

	if (l4len < UDP_HLEN || (ulen = net_ntohs(u->len)) < UDP_HLEN || ulen > l4len ||
	    (u->csum && udp_csum(src, net_ntohl(ip->dst), u, ulen) != 0xffff)) {
		net_drop(ifp, DROP_UDP_BAD);
		return;
	}
	if (net_ntohs(u->dport) == UDP_PORT_ECHO)
		udp_echo(ifp, frame, u, ulen - UDP_HLEN);
	else if (!udp_answer(src, u, ulen - UDP_HLEN))
		net_drop(ifp, DROP_UDP_PORT);
}

/*
 * Send @len bytes to @dst:@dport from a fresh port and wait up to
 * @timeout_ns for one datagram back from there.  Its length (cut at @size
 * bytes, copied to @reply), -ETIMEDOUT, or the error of sending.
 */
int udp_request(uint32_t dst, uint16_t dport, const void *data, size_t len, void *reply,
		size_t size, uint64_t timeout_ns)
{
	static uint16_t next;
	uint8_t frame[COOP_CONET_FRAME_MAX], mac[ETH_ALEN];
	struct netif *ifp;
	uint64_t end;
	uint32_t f;
	int err;

	if (UDP_HLEN + len > NET_L4_MAX)
		return -E2BIG;
	memcpy(frame + NET_L4_OFF + UDP_HLEN, data, len);
	f = irq_save();
	req = (__typeof__(req)){ .active = true, .peer = dst, .rport = dport, .buf = reply,
				 .size = size, .port = (uint16_t)(UDP_EPHEMERAL + next++ % 16384) };
	irq_restore(f);
	err = ip_route(dst, &ifp, mac);
	if (!err)
		err = udp_send(ifp, mac, dst, req.port, dport, frame, len);
	end = clock_ns() + timeout_ns;
	while (!err && !READ_ONCE(req.got) && clock_ns() < end)
		sleep_ms(UDP_POLL_MS);
	f = irq_save();
	if (!err)
		err = req.got ? (int)req.len : -ETIMEDOUT;
	req.active = false;
	irq_restore(f);
	return err;
}
