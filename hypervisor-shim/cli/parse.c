/* SPDX-License-Identifier: MIT */
/*
 * parse.c - parsing and printing of the values users type: sizes such as
 * "64M" or "1G" (binary units, as QEMU's -m).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <strings.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/shim.h"

/* "64M", "1g", "65536", "2GiB" -> bytes.  -EINVAL or -ERANGE. */
int cli_parse_size(const char *s, uint64_t *out)
{
	static const struct { const char *suffix; unsigned shift; } units[] = {
		{ "", 0 },     { "k", 10 },   { "kib", 10 }, { "m", 20 },  { "mib", 20 },
		{ "g", 30 },   { "gib", 30 }, { "t", 40 },   { "tib", 40 }, { "b", 0 },
	};
	uint64_t v = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, *p - '0', &v))
			return -ERANGE;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(p, units[i].suffix))
			continue;
		if (units[i].shift && v > (UINT64_MAX >> units[i].shift))
			return -ERANGE;
		*out = v << units[i].shift;
		return 0;
	}
	return -EINVAL;
}

/* Physical RAM of this host, in bytes. */
uint64_t cli_host_ram(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);

	return pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : 0;
}

/* 67108864 -> "64 MiB", 25165824000 -> "23.4 GiB". */
void cli_format_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *const unit[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
	unsigned i = 0;
	double v = (double)bytes;

	while (v >= 1024 && i < 4)
		v /= 1024, i++;
	if (i == 0)
		snprintf(buf, len, "%llu bytes", (unsigned long long)bytes);
	else if (v == (double)(uint64_t)v)
		snprintf(buf, len, "%llu %s", (unsigned long long)v, unit[i]);
	else
		snprintf(buf, len, "%.1f %s", v, unit[i]);
}
