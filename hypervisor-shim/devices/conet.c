/* SPDX-License-Identifier: MIT */
/*
 * conet.c - the network device's host side: each unit moves Ethernet frames
 * (COOP_CONET_FRAME, no FCS) between the guest and a host transport:
 *   --net conetN=tap:IFNAME | udp:LPORT:RHOST:RPORT | unix:PATH[:PEER]
 * A TAP device (needs CAP_NET_ADMIN or a persistent tap the user owns), or one
 * datagram per frame on a UDP or UNIX socket (QEMU -netdev dgram style, no
 * privileges).  Incoming frames are queued for the guest, at most
 * CONET_RX_QUEUE per unit: then the fd is paused and the host kernel's queue
 * holds (or drops) them, as a real NIC's ring would - coop never drops one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/shim.h"
#include "devices/devices.h"
#include "util/util.h"

#define CONET_RX_QUEUE 256             /* frames queued for the guest per unit */
#define CONET_RX_RESUME (CONET_RX_QUEUE / 2) /* read the fd again below this */
#define CONET_ETH_HLEN 14              /* destination, source, EtherType */
#define CONET_READ_MAX 65536           /* read buffer: larger frames are seen whole */

enum conet_kind { CONET_TAP, CONET_UDP, CONET_UNIX };

/* One network unit. */
struct shim_conet {
	unsigned int unit;       /* N of conetN */
	enum conet_kind kind;    /* its transport */
	int fd;                  /* TAP fd or datagram socket, non-blocking */
	const char *spec;        /* the --net value, for messages */
	char path[108];          /* unix: the socket we bound, removed at close */
	struct sockaddr_storage peer; /* udp/unix: where frames go */
	socklen_t peer_len;      /* 0: no peer yet (unix without PEER) */
	bool peer_fixed;         /* the spec named the peer: do not learn it */
	bool paused;             /* the fd is not read: the guest's queue is full */
	unsigned int queued;     /* frames sent to the router, not yet delivered */
	uint64_t rx_frames;      /* frames queued for the guest */
	uint64_t rx_dropped;     /* frames from the transport no guest could take */
	uint64_t tx_frames;      /* guest frames written to the transport */
	uint64_t tx_errors;      /* guest frames the transport refused */
};

/* err = "--net SPEC: what"; returns -EINVAL. */
static __attribute__((format(printf, 4, 5))) int bad(char *err, size_t errlen, const char *spec,
						      const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "--net %s: %s", spec, why);
	return -EINVAL;
}

/* A number lo..hi that is all of s (util.h's one rule for numbers users type). */
static int parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	uint64_t v;

	if (coop_parse_u64(s, hi, &v) || v < lo)
		return -EINVAL;
	*out = (unsigned long)v;
	return 0;
}

/* ---- transports ------------------------------------------------------------ */

/* Why a TAP could not be had, and what would help. */
static const char *tap_hint(int err)
{
	switch (err) {
	case ENOENT:
	case ENODEV:
		return " (no TUN/TAP support here: modprobe tun)";
	case EPERM:
	case EACCES:
		return " (needs CAP_NET_ADMIN, or a persistent tap the user owns: "
		       "ip tuntap add dev IFNAME mode tap user $USER)";
	default:
		return "";
	}
}

static int open_tap(struct shim_conet *c, const char *ifname, char *err, size_t errlen)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };

	if (!*ifname || strlen(ifname) >= IFNAMSIZ)
		return bad(err, errlen, c->spec, "an interface name of 1..%d bytes", IFNAMSIZ - 1);
	c->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (c->fd < 0)
		return bad(err, errlen, c->spec, "/dev/net/tun: %s%s", strerror(errno),
			   tap_hint(errno));
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	if (ioctl(c->fd, TUNSETIFF, &ifr))
		return bad(err, errlen, c->spec, "TUNSETIFF %s: %s%s", ifname, strerror(errno),
			   tap_hint(errno));
	return 0;
}

/* The IPv4 address of host (a name or a dotted quad), port in network order. */
static int resolve4(const char *host, unsigned long port, struct sockaddr_in *sa)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_DGRAM }, *ai;

	if (getaddrinfo(host, NULL, &hints, &ai))
		return -EINVAL;
	memcpy(sa, ai->ai_addr, sizeof(*sa));
	sa->sin_port = htons((uint16_t)port);
	freeaddrinfo(ai);
	return 0;
}

/* udp:LPORT:RHOST:RPORT - bound to loopback when the peer is on it, else to any. */
static int open_udp(struct shim_conet *c, const char *arg, char *err, size_t errlen)
{
	char buf[256], *rhost, *rport;
	struct sockaddr_in local = { .sin_family = AF_INET }, peer;
	unsigned long lport, port;

	if (strlen(arg) >= sizeof(buf))
		return bad(err, errlen, c->spec, "too long");
	strcpy(buf, arg);
	rhost = strchr(buf, ':');
	rport = rhost ? strrchr(rhost + 1, ':') : NULL;
	if (!rport)
		return bad(err, errlen, c->spec, "expected udp:LOCAL_PORT:REMOTE_HOST:REMOTE_PORT");
	*rhost++ = *rport++ = '\0';
	if (parse_uint(buf, 1, 65535, &lport) || parse_uint(rport, 1, 65535, &port))
		return bad(err, errlen, c->spec, "ports are 1..65535");
	if (resolve4(rhost, port, &peer))
		return bad(err, errlen, c->spec, "cannot resolve '%s' to an IPv4 address", rhost);
	local.sin_port = htons((uint16_t)lport);
	local.sin_addr.s_addr = (ntohl(peer.sin_addr.s_addr) >> 24) == 127
					? htonl(INADDR_LOOPBACK) : htonl(INADDR_ANY);
	c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || bind(c->fd, (struct sockaddr *)&local, sizeof(local)))
		return bad(err, errlen, c->spec, "UDP port %lu: %s", lport, strerror(errno));
	memcpy(&c->peer, &peer, sizeof(peer));
	c->peer_len = sizeof(peer);
	c->peer_fixed = true;
	return 0;
}

/* An AF_UNIX address for path, or -EINVAL if it does not fit. */
static int unix_addr(const char *path, struct sockaddr_un *sa)
{
	*sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
	if (!*path || strlen(path) >= sizeof(sa->sun_path))
		return -EINVAL;
	strcpy(sa->sun_path, path);
	return 0;
}

/* unix:PATH[:PEER] - PATH may not contain ':'; without PEER we answer the last sender. */
static int open_unix(struct shim_conet *c, const char *arg, char *err, size_t errlen)
{
	struct sockaddr_un sa, peer;
	const char *colon = strchr(arg, ':');
	char path[sizeof(sa.sun_path) + 1];
	size_t len = colon ? (size_t)(colon - arg) : strlen(arg);
	struct stat st;

	path[0] = '\0';
	if (len < sizeof(path)) {
		memcpy(path, arg, len);
		path[len] = '\0';
	}
	if (len >= sizeof(path) || unix_addr(path, &sa))
		return bad(err, errlen, c->spec, "a socket path of 1..%zu bytes",
			   sizeof(sa.sun_path) - 1);
	if (colon && unix_addr(colon + 1, &peer))
		return bad(err, errlen, c->spec, "a peer path of 1..%zu bytes",
			   sizeof(sa.sun_path) - 1);
	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
		return bad(err, errlen, c->spec, "%s exists and is not a socket", path);
	unlink(path); /* a stale socket from an earlier run */
	c->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)))
		return bad(err, errlen, c->spec, "%s: %s", path, strerror(errno));
	snprintf(c->path, sizeof(c->path), "%s", path);
	if (colon) {
		memcpy(&c->peer, &peer, sizeof(peer));
		c->peer_len = sizeof(peer);
		c->peer_fixed = true;
	}
	return 0;
}

/* ---- frames: transport -> guest ------------------------------------------- */

/* Read the fd again soon (core/watch.c serves it from the run loop). */
static void conet_resume(struct shim_vm *vm, struct shim_conet *c)
{
	c->paused = false;
	shim_watch_pause(vm, c->fd, false);
	__atomic_fetch_or(&vm->irq.events, SHIM_EV_IO | SHIM_EV_ANY, __ATOMIC_SEQ_CST);
}

/* One datagram or TAP frame: 0, -EAGAIN when there is none, or another -errno. */
static int conet_read(struct shim_conet *c, uint8_t *buf, size_t *len)
{
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	ssize_t n;

	do {
		if (c->kind == CONET_TAP)
			n = read(c->fd, buf, CONET_READ_MAX);
		else
			n = recvfrom(c->fd, buf, CONET_READ_MAX, MSG_TRUNC,
				     (struct sockaddr *)&from, &flen);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	*len = (size_t)n;
	if (c->kind == CONET_UNIX && !c->peer_fixed && flen > sizeof(sa_family_t)) {
		memcpy(&c->peer, &from, flen); /* answer whoever spoke last */
		c->peer_len = flen;
	}
	return 0;
}

/*
 * The transport is readable: queue its frames for the guest until it has
 * none or the unit's queue is full; then stop reading it (back-pressure)
 * until the guest has taken some (conet_delivered).
 */
static void conet_ready(struct shim_vm *vm, void *arg)
{
	static uint8_t buf[CONET_READ_MAX];
	struct shim_conet *c = arg;
	size_t len = 0;

	while (c->queued < CONET_RX_QUEUE) {
		if (conet_read(c, buf, &len))
			return; /* EAGAIN; a socket error (ECONNREFUSED ...) ends this round */
		if (len < CONET_ETH_HLEN || len > COOP_CONET_FRAME_MAX) {
			c->rx_dropped++; /* not an Ethernet frame the ABI can carry: counted */
			continue;
		}
		if (shim_router_send(vm, COOP_DEV_CONET, (uint16_t)c->unit, COOP_CONET_FRAME, buf,
				     (uint32_t)len)) {
			shim_kill_guest(vm, "conet%u: out of memory", c->unit);
			return;
		}
		c->queued++;
		c->rx_frames++;
	}
	c->paused = true;
	shim_watch_pause(vm, c->fd, true);
	vm->stats.backpressure_waits++;
}

/* One of our frames reached the guest's window: room in the unit's queue. */
static void conet_delivered(struct shim_vm *vm, const struct coop_msg_hdr *h)
{
	struct shim_conet *c = h->unit < COOP_BOOT_MAX_DEVS ? vm->conet[h->unit] : NULL;

	if (!c || !c->queued)
		return;
	c->queued--;
	if (c->paused && c->queued < CONET_RX_RESUME)
		conet_resume(vm, c);
}

/* ---- frames: guest -> transport ------------------------------------------- */

/*
 * Write one frame.  Never waits: a full TAP queue or socket buffer (EAGAIN),
 * a peer that is not there (ECONNREFUSED) or no peer yet loses the frame, as
 * a wire would, and it is counted.
 */
static void conet_write(struct shim_vm *vm, struct shim_conet *c, const uint8_t *frame,
			uint32_t len)
{
	ssize_t n;

	do {
		if (c->kind == CONET_TAP)
			n = write(c->fd, frame, len);
		else if (c->peer_len)
			n = sendto(c->fd, frame, len, 0, (struct sockaddr *)&c->peer, c->peer_len);
		else
			n = -1, errno = ENOTCONN;
	} while (n < 0 && errno == EINTR);
	if (n == (ssize_t)len) {
		c->tx_frames++;
		return;
	}
	c->tx_errors++;
	vm->stats.dev_errors[COOP_DEV_CONET]++;
}

static void conet_from_guest(struct shim_vm *vm, const struct coop_msg_hdr *h,
			     const uint8_t *payload)
{
	struct shim_conet *c = h->unit < COOP_BOOT_MAX_DEVS ? vm->conet[h->unit] : NULL;

	if (!c)
		shim_kill_guest(vm, "conet%u: no such unit", h->unit);
	else if (h->type != COOP_CONET_FRAME)
		shim_kill_guest(vm, "conet%u: message type %u is not a frame", h->unit, h->type);
	else if (h->length < CONET_ETH_HLEN || h->length > COOP_CONET_FRAME_MAX)
		shim_kill_guest(vm, "conet%u: a frame of %u bytes (expected %u..%u)", h->unit,
				h->length, CONET_ETH_HLEN, COOP_CONET_FRAME_MAX);
	else
		conet_write(vm, c, payload, h->length);
}

/* ---- set-up ---------------------------------------------------------------- */

/* The guest's MAC: locally administered 52:54:00, then this process and the unit. */
static void conet_mac(unsigned int unit, uint8_t mac[6])
{
	unsigned int pid = (unsigned int)getpid();

	mac[0] = 0x52;
	mac[1] = 0x54;
	mac[2] = 0x00;
	mac[3] = (uint8_t)(pid >> 8);
	mac[4] = (uint8_t)pid;
	mac[5] = (uint8_t)unit;
}

/* conetN=KIND:ARGS -> c->unit and the transport opened. */
static int conet_open_spec(struct shim_vm *vm, struct shim_conet *c, char *err, size_t errlen)
{
	const char *eq = strchr(c->spec, '=');
	char num[24];
	unsigned long unit;
	size_t n;

	if (strncmp(c->spec, "conet", 5) || !eq || (n = (size_t)(eq - c->spec) - 5) == 0)
		return bad(err, errlen, c->spec, "expected conetN=tap:IFNAME, "
			   "conetN=udp:LOCAL_PORT:REMOTE_HOST:REMOTE_PORT or conetN=unix:PATH[:PEER]");
	snprintf(num, sizeof(num), "%.*s", (int)n, c->spec + 5);
	if (n >= sizeof(num) || parse_uint(num, 0, COOP_BOOT_MAX_DEVS - 1, &unit))
		return bad(err, errlen, c->spec, "the unit N of conetN is 0..%d",
			   COOP_BOOT_MAX_DEVS - 1);
	if (vm->conet[unit])
		return bad(err, errlen, c->spec, "conet%lu is given twice", unit);
	c->unit = (unsigned int)unit;
	if (!strncmp(eq + 1, "tap:", 4)) {
		c->kind = CONET_TAP;
		return open_tap(c, eq + 5, err, errlen);
	}
	if (!strncmp(eq + 1, "udp:", 4)) {
		c->kind = CONET_UDP;
		return open_udp(c, eq + 5, err, errlen);
	}
	if (!strncmp(eq + 1, "unix:", 5)) {
		c->kind = CONET_UNIX;
		return open_unix(c, eq + 6, err, errlen);
	}
	return bad(err, errlen, c->spec, "unknown transport (expected tap:, udp: or unix:)");
}

static void conet_free(struct shim_conet *c)
{
	if (c->fd >= 0)
		close(c->fd);
	if (c->path[0])
		unlink(c->path);
	free(c);
}

/* Open one --net spec: a unit in vm->conet[], in the boot device table, watched. */
static int conet_open_one(struct shim_vm *vm, const char *spec, char *err, size_t errlen)
{
	struct shim_conet *c = calloc(1, sizeof(*c));
	struct coop_boot_dev dev = { .device = COOP_DEV_CONET };
	int rc;

	if (!c) {
		snprintf(err, errlen, "--net %s: out of memory", spec);
		return -ENOMEM;
	}
	c->fd = -1;
	c->spec = spec;
	rc = conet_open_spec(vm, c, err, errlen);
	if (rc) {
		conet_free(c);
		return rc;
	}
	dev.unit = (uint16_t)c->unit;
	conet_mac(c->unit, dev.mac);
	if (shim_boot_add_dev(vm, &dev) || shim_watch_fd(vm, c->fd, conet_ready, c)) {
		conet_free(c);
		snprintf(err, errlen, "--net %s: too many devices", spec);
		return -ENOSPC;
	}
	vm->conet[c->unit] = c;
	return 0;
}

static int conet_open(struct shim_vm *vm, const struct shim_config *cfg, char *err, size_t errlen)
{
	int rc;

	for (unsigned int i = 0; i < cfg->nnets; i++) {
		rc = conet_open_one(vm, cfg->nets[i], err, errlen);
		if (rc)
			return rc; /* the caller's close undoes the others */
	}
	return 0;
}

static void conet_close(struct shim_vm *vm)
{
	for (unsigned int i = 0; i < COOP_BOOT_MAX_DEVS; i++) {
		struct shim_conet *c = vm->conet[i];

		if (!c)
			continue;
		shim_unwatch_fd(vm, c->fd);
		conet_free(c);
		vm->conet[i] = NULL;
	}
}

const struct shim_device shim_conet_device = {
	.id = COOP_DEV_CONET,
	.open = conet_open,
	.close = conet_close,
	.from_guest = conet_from_guest,
	.delivered = conet_delivered,
};
