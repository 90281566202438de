/* SPDX-License-Identifier: MIT */
/*
 * router_input.h - what fuzz_router.c makes of its input bytes, shared
 * with the seed writer (fuzz_seeds.c) so that both speak one format.
 *
 *   u8   plan: % (ROUTER_NPLANS + 1); 0 runs without a fault layer
 *   u64  seed: the fault plan's (--seed)
 *   then commands, each a u8 (% ROUTER_CMD_COUNT) and its arguments,
 *   until the input ends or the guest is ended.
 *
 * Numbers are little-endian; an input that ends early reads zeroes.  The
 * guest's RAM, its devices and the clock are set up afresh for each input,
 * so that a crash file replays on its own.
 */
#ifndef COOP_FUZZ_ROUTER_INPUT_H
#define COOP_FUZZ_ROUTER_INPUT_H

#include <coop/abi.h>

#define ROUTER_NPLANS 4

enum router_cmd {
	/*
	 * u8 flags, u16 len, len bytes: the to_host window's data, then the
	 * MESSAGE hypercall (shim_router_serve).  The harness frames the
	 * messages itself (count, bytes, the operation's count), unless RAW:
	 * then u16 count, u16 bytes and u16 announced count follow the data.
	 */
	ROUTER_CMD_MESSAGE,
	/* u8 flags: queued messages into the to_guest window; TAKE: the guest empties it after. */
	ROUTER_CMD_DELIVER,
	/* u8 flags, u16 us: the clock moves on; TICK: the timer ticked; held faults come due. */
	ROUTER_CMD_TIME,
	/* u16 offset, u8 len, len bytes: the guest writes into the passage, anywhere. */
	ROUTER_CMD_POKE,
	/* u32 offset, u16 len, len bytes: the guest writes its RAM above the passage. */
	ROUTER_CMD_RAM,
	/* u8 flags, u16 len, len bytes: a datagram arrives for conet0 (or conet2: UNIT2). */
	ROUTER_CMD_FRAME,
	ROUTER_CMD_COUNT
};

#define ROUTER_MSG_FIX_CRC 0x1 /* the harness sets each framed message's CRC32C */
#define ROUTER_MSG_RAW 0x2     /* count and bytes come from the input, as they are */
#define ROUTER_DELIVER_TAKE 0x1
#define ROUTER_TIME_TICK 0x1
#define ROUTER_FRAME_UNIT2 0x1

/* The guest the harness sets up (fuzz_router.c). */
#define ROUTER_MEM (COOP_U64(512) << 10)           /* guest RAM */
#define ROUTER_TEXT (COOP_GUEST_BASE + 0x20000)      /* a read-only, executable segment */
#define ROUTER_TEXT_SIZE 0x10000
#define ROUTER_HEAP (COOP_GUEST_BASE + 0x40000)      /* writable RAM for buffers */
#define ROUTER_COBD0_SIZE (COOP_U64(64) << 10)      /* cobd0: rw */
#define ROUTER_COBD3_SIZE (COOP_U64(16) << 10)      /* cobd3: ro, from byte 1024 of its image */
#define ROUTER_COBD3_OFFSET 1024

#endif /* COOP_FUZZ_ROUTER_INPUT_H */
