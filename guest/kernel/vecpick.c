/* SPDX-License-Identifier: MIT */
/*
 * vecpick.c - which virtual interrupt to take next: the ABI's one rule
 * (abi.h, coop_virq_pick: the highest vector pending and not masked).
 * Pure, so that it builds on the host: tests/unit/guest/test_vecpick.c.
 */
#include "defs.h"

/* The highest set bit of pending & ~masked over 256 vectors, or -1 if none. */
int virq_pick(const uint64_t pending[4], const uint64_t masked[4])
{
	return coop_virq_pick(pending, masked);
}
