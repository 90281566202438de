/* SPDX-License-Identifier: MIT */
/*
 * net.c - conet against the raw transport.  A peer thread speaks Ethernet
 * over a UNIX datagram socket: it answers ARP and sends UDP datagrams to
 * the guest's echo service (port 7).  Two ways:
 *  - round trip (conet_rtt): one frame in flight, each timed from send to
 *    its echo;
 *  - packets per second (conet_pps): a window of frames in flight for a
 *    fixed time, counting echoes; samples are rates over 50 ms slices.
 * The baselines are the same peer against a thread that echoes the same
 * datagrams on the same kind of socket: what the transport alone does.
 * The guest is driven through its console, which powers it off when the
 * peer is done.  Every thread runs on the one pinned CPU.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bench/bench.h"
#include "core/shim.h"

#define WINDOW                                                                                     \
	8 /* datagrams in flight: below the socket queue (net.unix.max_dgram_qlen, 10 by default)  \
	   */
#define PAYLOAD 64 /* UDP payload bytes */
#define SLICE_NS 50000000ull
#define PEER_IP 0x0ad50901u  /* 10.213.9.1 */
#define GUEST_IP 0x0ad50902u /* 10.213.9.2 */

static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 1 };

struct peer {
	int fd;                /* our socket */
	struct sockaddr_un to; /* the guest's (or the echo thread's) socket */
	uint8_t mac[6];        /* the other side's MAC, from ARP */
	double seconds;        /* pps: how long to measure */
	uint64_t *slices;      /* pps: pkt/s per slice ... */
	size_t nslices, cap;   /* ... filled, room */
	uint64_t *rtt;         /* rtt mode (non-NULL): cycles per round trip ... */
	size_t n, warm, got;   /* ... samples wanted, warm-up frames, taken */
	bool raw;              /* baseline: no ARP, the echo thread returns frames as they are */
	int rc;                /* 0 or -errno */
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t ip_csum(const uint8_t *h)
{
	uint32_t s = 0;

	for (int i = 0; i < 20; i += 2)
		s += (uint32_t)h[i] << 8 | h[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Ethernet + IPv4 + UDP to the guest's port 7. */
static size_t udp_frame(uint8_t *f, const uint8_t *dst, uint16_t id)
{
	uint8_t *ip = f + 14, *udp = ip + 20;

	memcpy(f, dst, 6), memcpy(f + 6, peer_mac, 6), put16(f + 12, 0x0800);
	memset(ip, 0, 20);
	ip[0] = 0x45, ip[8] = 64, ip[9] = 17;
	put16(ip + 2, 20 + 8 + PAYLOAD), put16(ip + 4, id);
	put32(ip + 12, PEER_IP), put32(ip + 16, GUEST_IP);
	put16(ip + 10, ip_csum(ip));
	put16(udp, 40000), put16(udp + 2, 7), put16(udp + 4, 8 + PAYLOAD), put16(udp + 6, 0);
	memset(udp + 8, 'c', PAYLOAD);
	return 14 + 20 + 8 + PAYLOAD;
}

/* ARP: 1 request, 2 reply; sender is us. */
static size_t arp_frame(uint8_t *f, int op, const uint8_t *tmac, uint32_t tip)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	memcpy(f, op == 1 ? bcast : tmac, 6), memcpy(f + 6, peer_mac, 6), put16(f + 12, 0x0806);
	put16(f + 14, 1), put16(f + 16, 0x0800), f[18] = 6, f[19] = 4, put16(f + 20, (uint16_t)op);
	memcpy(f + 22, peer_mac, 6), put32(f + 28, PEER_IP);
	memcpy(f + 32, op == 1 ? bcast : tmac, 6), put32(f + 38, tip);
	return 42;
}

static int send_to(struct peer *p, const uint8_t *f, size_t len)
{
	return sendto(p->fd, f, len, 0, (struct sockaddr *)&p->to, sizeof(p->to)) < 0 ? -errno : 0;
}

/* Answer the other side's ARP requests; 1 when f was an ARP frame. */
static int handle_arp(struct peer *p, const uint8_t *f, ssize_t n)
{
	uint8_t reply[64];

	if (n < 42 || f[12] != 0x08 || f[13] != 0x06)
		return 0;
	if (f[21] == 1) /* a request: for us, as we are the only other host */
		send_to(p, reply,
		        arp_frame(reply, 2, f + 22,
		                  (uint32_t)f[28] << 24 | f[29] << 16 | f[30] << 8 | f[31]));
	else
		memcpy(p->mac, f + 22, 6);
	return 1;
}

static int resolve(struct peer *p)
{
	uint8_t f[2048];
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };

	for (int tries = 0; tries < 50; tries++) {
		send_to(p, f, arp_frame(f, 1, NULL, GUEST_IP));
		while (poll(&pfd, 1, 100) > 0) {
			ssize_t n = recv(p->fd, f, sizeof(f), 0);

			if (handle_arp(p, f, n) && memcmp(p->mac, "\0\0\0\0\0", 6))
				return 0;
		}
	}
	return -ETIMEDOUT;
}

/* Wait for the next frame that is not ARP; 0, or -ETIMEDOUT after a second. */
static int await_echo(struct peer *p)
{
	uint8_t f[2048];
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };

	for (;;) {
		ssize_t n;

		if (poll(&pfd, 1, 1000) <= 0)
			return -ETIMEDOUT;
		n = recv(p->fd, f, sizeof(f), 0);
		if (n > 0 && !handle_arp(p, f, n))
			return 0;
	}
}

/* One frame in flight: each round trip timed. */
static int peer_rtt(struct peer *p, const uint8_t *out, size_t len)
{
	int rc = 0;

	for (size_t i = 0; !rc && i < p->warm + p->n; i++) {
		uint64_t t0 = bench_tsc_begin();

		rc = send_to(p, out, len);
		if (!rc)
			rc = await_echo(p);
		t0 = bench_tsc_end() - t0;
		if (!rc && i >= p->warm)
			p->rtt[p->got++] = t0;
	}
	return rc;
}

/* WINDOW frames in flight for p->seconds: echoes counted per slice. */
static void peer_pps(struct peer *p, const uint8_t *out, size_t len)
{
	uint8_t f[2048];
	uint64_t end, slice_end, in_slice = 0, t;

	for (int i = 0; i < WINDOW; i++)
		send_to(p, out, len);
	t = shim_now_ns();
	end = t + (uint64_t)(p->seconds * 1e9);
	slice_end = t + SLICE_NS;
	while ((t = shim_now_ns()) < end && p->nslices < p->cap) {
		struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
		ssize_t n;

		if (t >= slice_end) {
			p->slices[p->nslices++] = in_slice * 1000000000ull / SLICE_NS;
			in_slice = 0;
			slice_end += SLICE_NS;
		}
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = recv(p->fd, f, sizeof(f), 0);
		if (n <= 0 || handle_arp(p, f, n))
			continue;
		in_slice++;
		send_to(p, out, len); /* one back, one out: the window stays full */
	}
}

static void peer_main(struct peer *p)
{
	uint8_t out[256];
	size_t len;

	if (!p->raw && (p->rc = resolve(p)))
		return;
	len = udp_frame(out, p->mac, 1);
	if (p->rtt)
		p->rc = peer_rtt(p, out, len);
	else
		peer_pps(p, out, len);
}

/* The console peer of a guest run: measure, then let the helper power it off. */
static int peer_console(int fd, void *arg)
{
	struct peer *p = arg;

	(void)fd;
	peer_main(p);
	return p->rc;
}

static int bind_dgram(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* The peer's samples as r; frees them. */
static int result(struct bench_result *r, struct peer *p, int rc)
{
	if (!rc && p->rtt)
		rc = bench_latency(r, p->rtt, p->got, bench_timer_overhead(), 1);
	else if (!rc)
		rc = bench_rate_values(r, p->slices, p->nslices, "pkt/s");
	free(p->slices);
	free(p->rtt);
	return rc;
}

/* The peer's samples: round trips, or pps slices. */
static int peer_alloc(const struct bench_opts *o, struct peer *p, bool rtt)
{
	p->seconds = o->quick ? 0.5 : 2.0;
	p->cap = 256;
	p->n = bench_n(o, 2000, 20000);
	p->warm = p->n / 10;
	if (rtt)
		p->rtt = calloc(p->n, sizeof(*p->rtt));
	else
		p->slices = calloc(p->cap, sizeof(*p->slices));
	return p->rtt || p->slices ? 0 : -ENOMEM;
}

/* The guest: conet0 on a UNIX socket whose peer is us. */
static int conet_guest(const struct bench_opts *o, struct bench_result *r, bool rtt)
{
	char dir[] = "/tmp/coop-bench-net-XXXXXX", g[64], pp[64], net[300];
	const char *nets[1] = { net };
	struct peer p = { .fd = -1 };
	struct shim_config cfg = { .nnets = 1, .cmdline = "ip=10.213.9.2/24" };
	int rc = peer_alloc(o, &p, rtt);

	if (rc || !mkdtemp(dir))
		return result(r, &p, rc ? rc : -errno);
	snprintf(g, sizeof(g), "%s/guest", dir);
	snprintf(pp, sizeof(pp), "%s/peer", dir);
	snprintf(net, sizeof(net), "conet0=unix:%s:%s", g, pp);
	memcpy(cfg.nets, nets, sizeof(nets));
	p.fd = bind_dgram(pp);
	p.to.sun_family = AF_UNIX;
	snprintf(p.to.sun_path, sizeof(p.to.sun_path), "%s", g);
	rc = p.fd < 0 ? -errno : bench_guest_console(o, &cfg, peer_console, &p);
	if (!rc && !p.rtt && !p.nslices)
		rc = -EIO;
	if (p.fd >= 0)
		close(p.fd);
	unlink(pp), unlink(g), rmdir(dir);
	return result(r, &p, rc);
}

int bench_conet_rtt(const struct bench_opts *o, struct bench_result *r)
{
	r->name = "conet_rtt";
	r->note = "one UDP frame to the guest's echo service and back, one in flight";
	r->baseline = "conet_raw_rtt";
	return conet_guest(o, r, true);
}

int bench_conet_pps(const struct bench_opts *o, struct bench_result *r)
{
	r->name = "conet_pps";
	r->note = "UDP echo round trips per second through the guest, 8 in flight";
	r->baseline = "conet_raw_pps";
	return conet_guest(o, r, false);
}

static void *echo_main(void *arg)
{
	int fd = *(int *)arg;
	uint8_t f[2048];
	struct sockaddr_un from;

	bench_block_signals();
	for (;;) {
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, f, sizeof(f), 0, (struct sockaddr *)&from, &fl);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || (n == 1 && f[0] == 0)) /* a 1-byte zero datagram: stop */
			return NULL;
		sendto(fd, f, (size_t)n, 0, (struct sockaddr *)&from, fl);
	}
}

/* Baseline: the same peer and sockets, echoed by a thread instead of a guest. */
static int conet_raw(const struct bench_opts *o, struct bench_result *r, bool rtt)
{
	char dir[] = "/tmp/coop-bench-net-XXXXXX", e[64], pp[64];
	struct peer p = { .fd = -1, .raw = true };
	pthread_t th;
	int efd = -1, rc = peer_alloc(o, &p, rtt);

	if (rc || !mkdtemp(dir))
		return result(r, &p, rc ? rc : -errno);
	snprintf(e, sizeof(e), "%s/echo", dir);
	snprintf(pp, sizeof(pp), "%s/peer", dir);
	efd = bind_dgram(e);
	p.fd = bind_dgram(pp);
	p.to.sun_family = AF_UNIX;
	snprintf(p.to.sun_path, sizeof(p.to.sun_path), "%s", e);
	if (efd < 0 || p.fd < 0 || pthread_create(&th, NULL, echo_main, &efd)) {
		rc = -ENOMEM;
	} else {
		peer_main(&p);
		send_to(&p, (const uint8_t *)"", 1);
		pthread_join(th, NULL);
		rc = p.rc ? p.rc : !p.rtt && !p.nslices ? -EIO : 0;
	}
	if (efd >= 0)
		close(efd);
	if (p.fd >= 0)
		close(p.fd);
	unlink(e), unlink(pp), rmdir(dir);
	return result(r, &p, rc);
}

int bench_conet_raw_rtt(const struct bench_opts *o, struct bench_result *r)
{
	r->name = "conet_raw_rtt";
	r->note = "the same frame echoed by a thread over the same socket type, one in flight";
	return conet_raw(o, r, true);
}

int bench_conet_raw_pps(const struct bench_opts *o, struct bench_result *r)
{
	r->name = "conet_raw_pps";
	r->note = "the same datagrams echoed by a thread over the same socket type, 8 in flight";
	return conet_raw(o, r, false);
}
