/* SPDX-License-Identifier: MIT */
/*
 * crc32c.c - CRC32C (Castagnoli) for message headers and payloads, from
 * ISA-L (Debian's libisal), which uses the SSE4.2 crc32 instruction.
 * The guest has its own freestanding copy (guest/kernel/crc32c.c); the
 * unit tests check that both agree.
 */
#include <isa-l/crc.h>

#include "core/shim.h"

/* zlib-style: start with 0, feed chunks, the result is the final CRC. */
uint32_t shim_crc32c(uint32_t crc, const void *buf, size_t len)
{
	/* ISA-L's crc32_iscsi neither inverts on entry nor on exit. */
	const unsigned char *p = buf;

	crc = ~crc;
	while (len) {
		int chunk = len > (1u << 30) ? 1 << 30 : (int)len;

		crc = crc32_iscsi((unsigned char *)p, chunk, crc);
		p += chunk;
		len -= (size_t)chunk;
	}
	return ~crc;
}

/* A message's CRC: its header with crc32c = 0, then its payload. */
uint32_t shim_msg_crc(const struct coop_msg_hdr *hdr, const void *payload)
{
	struct coop_msg_hdr h = *hdr;

	h.crc32c = 0;
	return shim_crc32c(shim_crc32c(0, &h, sizeof(h)), payload, hdr->length);
}
