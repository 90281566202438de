/* SPDX-License-Identifier: MIT */
/*
 * vecpick.c - which virtual interrupt to take next: the highest vector
 * that is pending and not masked (priority = vector number, as the local
 * APIC does).  Pure, so that it builds on the host: tests/unit/guest/test_vecpick.c.
 */
#include "defs.h"

/* The highest set bit of pending & ~masked over 256 vectors, or -1 if none. */
int virq_pick(const uint64_t pending[4], const uint64_t masked[4])
{
	int w;

	for (w = 3; w >= 0; w--) {
		uint64_t ready = pending[w] & ~masked[w];

		if (ready)
			return w * 64 + 63 - __builtin_clzll(ready);
	}
	return -1;
}
