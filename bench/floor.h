/* SPDX-License-Identifier: MIT */
/*
 * floor.h - the two floors of a world switch (floor.S), measured between
 * two coroutines of one thread: the minimal switch (callee-saved registers
 * and rsp) and the full-state one (every GPR, rflags, FS/GS base, xsave).
 * The offsets below are the only ones floor.S uses; C checks them.
 */
#ifndef COOP_BENCH_FLOOR_H
#define COOP_BENCH_FLOOR_H

#define FLOOR_RSP 0   /* struct bench_floor_ctx.rsp */
#define FLOOR_MASK 8  /* .mask */
#define FLOOR_AREA 64 /* .area */
#define FLOOR_AREA_SIZE 4096

#ifndef __ASSEMBLER__
#include <stddef.h>
#include <stdint.h>

/* One side of the full-state floor. */
struct bench_floor_ctx {
	uint64_t rsp;  /* its stack while the other side runs */
	uint64_t mask; /* XCR0: the components xsaveopt/xrstor exchange */
	uint8_t reserved[48];
	uint8_t area[FLOOR_AREA_SIZE] __attribute__((aligned(64))); /* standard-format xsave area */
};
_Static_assert(offsetof(struct bench_floor_ctx, rsp) == FLOOR_RSP, "FLOOR_RSP");
_Static_assert(offsetof(struct bench_floor_ctx, mask) == FLOOR_MASK, "FLOOR_MASK");
_Static_assert(offsetof(struct bench_floor_ctx, area) == FLOOR_AREA, "FLOOR_AREA");

/* Push callee-saved registers, store rsp in *save, load rsp = load, pop, ret. */
void bench_floor_switch(uint64_t *save, uint64_t load);
/* The same with every GPR, rflags, FS/GS base and xsaveopt/xrstor of save/load->area. */
void bench_floor_switch_xsave(struct bench_floor_ctx *save, struct bench_floor_ctx *load);
#endif

#endif /* COOP_BENCH_FLOOR_H */
