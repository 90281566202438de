/* SPDX-License-Identifier: MIT */
/*
 * mbr.c - find partition N of a whole-disk image in its MBR, so that
 * `--disk cobd0=disk.img,partition=2` serves exactly that partition
 * (coLinux users cut 63 sectors off by hand).  Every field is checked:
 * signature, entry status, type, and the extent against the image.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "devices/mbr.h"

#define MBR_SIG_OFF 510
#define MBR_TABLE_OFF 446
#define MBR_ENTRY_SIZE 16
#define MBR_TYPE_GPT 0xee

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int mbr_partition(const uint8_t sector[512], uint64_t image_size, unsigned int n,
		  uint64_t *offset, uint64_t *size, char *err, size_t errlen)
{
	const uint8_t *e;
	uint64_t start, count;

	if (n < 1 || n > 4) {
		snprintf(err, errlen, "partition=%u: only primary partitions 1..4 are supported", n);
		return -EINVAL;
	}
	if (sector[MBR_SIG_OFF] != 0x55 || sector[MBR_SIG_OFF + 1] != 0xaa) {
		snprintf(err, errlen, "no MBR partition table (signature 55 aa missing at byte 510)");
		return -EINVAL;
	}
	e = sector + MBR_TABLE_OFF + (n - 1) * MBR_ENTRY_SIZE;
	if (e[4] == MBR_TYPE_GPT) {
		snprintf(err, errlen, "a GPT disk (protective MBR): GPT is not supported");
		return -EINVAL;
	}
	if (e[0] != 0x00 && e[0] != 0x80) {
		snprintf(err, errlen, "partition %u: bad status byte %#x (expected 0x00 or 0x80)", n,
			 e[0]);
		return -EINVAL;
	}
	start = le32(e + 8);
	count = le32(e + 12);
	if (e[4] == 0 || count == 0) {
		snprintf(err, errlen, "partition %u is empty", n);
		return -EINVAL;
	}
	if (start == 0 || (start + count) * 512 > image_size) {
		snprintf(err, errlen,
			 "partition %u (sectors %llu+%llu) lies outside the image (%llu sectors)", n,
			 (unsigned long long)start, (unsigned long long)count,
			 (unsigned long long)(image_size / 512));
		return -EINVAL;
	}
	*offset = start * 512;
	*size = count * 512;
	return 0;
}
