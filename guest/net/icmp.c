/* SPDX-License-Identifier: MIT */
/*
 * icmp.c - ICMP echo (RFC 792): every echo request to our address is
 * answered, byte for byte, to the MAC it came from; icmp_ping() sends a
 * request and waits for its reply (one outstanding at a time - the shell's
 * `net ping`).  The waiter is shared with the network thread: vif = 0.
 */
#include "net.h"

#define PING_POLL_MS 1 /* how often the pinger looks for its reply */

/* The one echo request we wait for. */
static struct {
	bool active;     /* a ping waits */
	bool got;        /* ... and its reply came */
	uint32_t dst;    /* whom we asked */
	uint16_t id;     /* identifier we sent */
	uint16_t seq;    /* sequence number we sent */
	uint64_t at_ns;  /* clock_ns() when the reply was taken */
	size_t len;      /* ICMP bytes of the reply */
} ping;

static uint16_t icmp_csum(const void *msg, size_t len)
{
	return inet_fold(inet_sum(0, msg, len));
}

/* Answer an echo request: same id, sequence and data, back where it came from. */
static void icmp_echo_reply(struct netif *ifp, const uint8_t *frame, size_t l4off, size_t l4len)
{
	static uint8_t out[COOP_CONET_FRAME_MAX]; /* the network thread's only */
	const struct eth_hdr *e = (const struct eth_hdr *)frame;
	const struct ip_hdr *ip = (const struct ip_hdr *)(frame + ETH_HLEN);
	struct icmp_hdr *ic = (struct icmp_hdr *)(out + NET_L4_OFF);

	if (l4len > NET_L4_MAX)
		return; /* came with IP options and fills the frame: cannot fit ours */
	memcpy(out + NET_L4_OFF, frame + l4off, l4len);
	ic->type = ICMP_ECHOREPLY;
	ic->code = 0;
	ic->csum = 0;
	ic->csum = net_htons(icmp_csum(ic, l4len));
	ip_send(ifp, e->src, net_ntohl(ip->src), IP_PROTO_ICMP, out, l4len);
}

/* A reply: is it the one the pinger waits for? */
static bool icmp_echo_match(uint32_t src, const struct icmp_hdr *ic, size_t l4len)
{
	uint32_t f = irq_save();
	bool ours = ping.active && !ping.got && src == ping.dst &&
		    net_ntohs(ic->id) == ping.id && net_ntohs(ic->seq) == ping.seq;

	if (ours) {
		ping.got = true;
		ping.at_ns = clock_ns();
		ping.len = l4len;
	}
	irq_restore(f);
	return ours;
}

void icmp_input(struct netif *ifp, const uint8_t *frame, size_t l4off, size_t l4len)
{
	const struct icmp_hdr *ic = (const struct icmp_hdr *)(frame + l4off);
	const struct ip_hdr *ip = (const struct ip_hdr *)(frame + ETH_HLEN);

	if (l4len < ICMP_HLEN || icmp_csum(ic, l4len) != 0) {
		net_drop(ifp, DROP_ICMP_BAD);
		return;
	}
	if (ic->type == ICMP_ECHO && ic->code == 0)
		icmp_echo_reply(ifp, frame, l4off, l4len);
	else if (ic->type != ICMP_ECHOREPLY || !icmp_echo_match(net_ntohl(ip->src), ic, l4len))
		net_drop(ifp, DROP_ICMP_OTHER);
}

/* Build and send echo request @seq with @datalen bytes of pattern to @dst; *sent_ns: when. */
static int icmp_echo_send(uint32_t dst, uint16_t id, uint16_t seq, size_t datalen,
			  uint64_t *sent_ns)
{
	uint8_t frame[COOP_CONET_FRAME_MAX], mac[ETH_ALEN];
	struct icmp_hdr *ic = (struct icmp_hdr *)(frame + NET_L4_OFF);
	uint8_t *data = frame + NET_L4_OFF + ICMP_HLEN;
	struct netif *ifp;
	size_t i;
	int err;

	if (ICMP_HLEN + datalen > NET_L4_MAX)
		return -E2BIG;
	err = ip_route(dst, &ifp, mac);
	if (err)
		return err;
	for (i = 0; i < datalen; i++)
		data[i] = (uint8_t)(0x10 + i); /* ping(8)'s pattern: easy to spot in a dump */
	*ic = (struct icmp_hdr){ .type = ICMP_ECHO, .id = net_htons(id), .seq = net_htons(seq) };
	ic->csum = net_htons(icmp_csum(ic, ICMP_HLEN + datalen));
	*sent_ns = clock_ns(); /* after ARP: the time the request leaves */
	return ip_send(ifp, mac, dst, IP_PROTO_ICMP, frame, ICMP_HLEN + datalen);
}

/*
 * Ping @dst once: echo request @seq with @datalen data bytes, wait up to
 * @timeout_ns for the reply.  0 with the round trip in *rtt_ns and the
 * reply's ICMP length in *got_len; -ETIMEDOUT, or the error of sending
 * (no route, no ARP answer).
 */
int icmp_ping(uint32_t dst, uint16_t seq, size_t datalen, uint64_t timeout_ns,
	      uint64_t *rtt_ns, size_t *got_len)
{
	static uint16_t id;
	uint64_t start, end;
	uint32_t f;
	int err;

	if (!id)
		id = (uint16_t)(rdtsc_ordered() | 1);
	f = irq_save();
	ping = (__typeof__(ping)){ .active = true, .dst = dst, .id = id, .seq = seq };
	irq_restore(f);
	start = clock_ns();
	err = icmp_echo_send(dst, id, seq, datalen, &start);
	end = start + timeout_ns;
	while (!err && !READ_ONCE(ping.got) && clock_ns() < end)
		sleep_ms(PING_POLL_MS);
	f = irq_save();
	if (!err && !ping.got)
		err = -ETIMEDOUT;
	*rtt_ns = ping.at_ns > start ? ping.at_ns - start : 0;
	*got_len = ping.len;
	ping.active = false;
	irq_restore(f);
	return err;
}
