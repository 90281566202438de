/* SPDX-License-Identifier: MIT */
/*
 * netcmd.c - the shell's `net` command: `net info` (per unit: MAC, address,
 * frames and bytes each way, drops by reason), `net ping ADDR [COUNT]`
 * (as ping(8): a line per reply, a summary, status 0 only if every request
 * was answered) and `net echo ADDR PORT TEXT` (one UDP datagram, print the
 * answer).  Try: coop run --net conet0=tap:tap0 --cmdline ip=10.0.0.2/24 --exec 'net ping 10.0.0.1'
 */
#include "../net/net.h"

#define PING_DATA 56                     /* ping(8)'s default: 64 ICMP bytes */
#define PING_TIMEOUT_NS 1000000000ull    /* per request */
#define PING_INTERVAL_MS 200             /* between requests at least */
#define PING_COUNT_MAX 1000
#define ECHO_TIMEOUT_NS 2000000000ull

static int net_usage(void)
{
	kprintf("usage: net info | net ping ADDR [COUNT] | net echo ADDR PORT TEXT\n");
	return 2;
}

static const char *net_strerror(int err)
{
	switch (err) {
	case -ENETUNREACH:
		return "no interface on that network (ip= on the command line?)";
	case -EHOSTUNREACH:
		return "no ARP answer";
	case -ETIMEDOUT:
		return "timed out";
	case -E2BIG:
		return "too long";
	default:
		return "error";
	}
}

static void info_unit(const struct netif *ifp)
{
	struct conet_stats st;
	char mac[24], ip[16];
	uint64_t total = 0;
	unsigned int i;

	conet_get_stats(ifp->unit, &st);
	mac_format(ifp->mac, mac, sizeof(mac));
	inet_format(ifp->ip, ip, sizeof(ip));
	kprintf("conet%u: mac %s ", ifp->unit, mac);
	if (ifp->ip)
		kprintf("inet %s/%u\n", ip, ifp->prefix);
	else
		kprintf("inet none\n");
	kprintf("  rx %llu frames %llu bytes, tx %llu frames %llu bytes\n",
		(unsigned long long)st.rx_frames, (unsigned long long)st.rx_bytes,
		(unsigned long long)st.tx_frames, (unsigned long long)st.tx_bytes);
	/* Only the reasons that happened: a clean run reads "drops none". */
	kprintf("  drops");
	if (st.rx_ring_full)
		kprintf(" ring_full=%llu", (unsigned long long)st.rx_ring_full);
	if (st.rx_bad)
		kprintf(" bad_frame=%llu", (unsigned long long)st.rx_bad);
	for (i = 0; i < DROP_COUNT; i++) {
		uint64_t n = READ_ONCE(ifp->drops[i]);

		if (n)
			kprintf(" %s=%llu", net_drop_name(i), (unsigned long long)n);
		total += n;
	}
	kprintf("%s\n", total + st.rx_ring_full + st.rx_bad ? "" : " none");
}

static int net_info(void)
{
	unsigned int unit, n = 0;

	for (unit = 0; unit < NET_IFS; unit++) {
		const struct netif *ifp = netif_get(unit);

		if (ifp) {
			info_unit(ifp);
			n++;
		}
	}
	if (!n)
		kprintf("no network devices (coop run --net conet0=...)\n");
	return 0;
}

/* An IPv4 address argument, or a message. */
static int net_addr(const char *cmd, const char *s, uint32_t *ip)
{
	if (!inet_parse(s, ip))
		return 0;
	kprintf("net %s: '%s' is not an IPv4 address\n", cmd, s);
	return -EINVAL;
}

/* One request of `net ping`: its line; true if answered. */
static bool ping_one(uint32_t dst, const char *name, uint16_t seq)
{
	uint64_t rtt;
	size_t len;
	int err = icmp_ping(dst, seq, PING_DATA, PING_TIMEOUT_NS, &rtt, &len);

	if (err) {
		kprintf("From %s icmp_seq=%u: %s\n", name, seq, net_strerror(err));
		return false;
	}
	kprintf("%u bytes from %s: icmp_seq=%u time=%llu.%03llu ms\n", (unsigned int)len, name,
		seq, (unsigned long long)(rtt / 1000000), (unsigned long long)(rtt / 1000 % 1000));
	return true;
}

static int net_ping(int argc, char **argv)
{
	uint64_t count = 3, start;
	unsigned int got = 0;
	uint32_t dst;
	uint16_t seq;

	if (argc < 3 || argc > 4)
		return net_usage();
	if (net_addr("ping", argv[2], &dst))
		return 2;
	if (argc == 4 && (kstrtou64(argv[3], 10, &count) || !count || count > PING_COUNT_MAX)) {
		kprintf("net ping: bad count '%s' (expected 1..%u)\n", argv[3], PING_COUNT_MAX);
		return 2;
	}
	kprintf("PING %s: %u data bytes\n", argv[2], PING_DATA);
	for (seq = 1; seq <= count; seq++) {
		start = clock_ns();
		got += ping_one(dst, argv[2], seq);
		while (seq < count && clock_ns() < start + PING_INTERVAL_MS * 1000000ull)
			sleep_ms(1);
	}
	kprintf("%llu packets transmitted, %u received, %llu%% packet loss\n",
		(unsigned long long)count, got,
		(unsigned long long)((count - got) * 100 / count));
	return got == count ? 0 : 1;
}

static int net_echo(int argc, char **argv)
{
	static char reply[NET_L4_MAX + 1];
	uint64_t port;
	uint32_t dst;
	int n;

	if (argc != 5)
		return net_usage();
	if (net_addr("echo", argv[2], &dst))
		return 2;
	if (kstrtou64(argv[3], 10, &port) || !port || port > 65535) {
		kprintf("net echo: bad port '%s' (expected 1..65535)\n", argv[3]);
		return 2;
	}
	n = udp_request(dst, (uint16_t)port, argv[4], strlen(argv[4]), reply, NET_L4_MAX,
			ECHO_TIMEOUT_NS);
	if (n < 0) {
		kprintf("net echo: %s:%s: %s\n", argv[2], argv[3], net_strerror(n));
		return 1;
	}
	reply[n] = '\0';
	kprintf("%s\n", reply);
	return 0;
}

int cmd_net(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "info") && argc == 2)
		return net_info();
	if (argc >= 2 && !strcmp(argv[1], "ping"))
		return net_ping(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "echo"))
		return net_echo(argc, argv);
	return net_usage();
}
