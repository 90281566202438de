/* SPDX-License-Identifier: MIT */
/*
 * fuzz.h - what the libFuzzer harnesses share.  A harness defines
 * FUZZ_NAME ("fuzz_plan", ...) before including it.
 */
#ifndef COOP_FUZZ_H
#define COOP_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken promise: say which, then abort() so libFuzzer keeps the input. */
#define require(cond, ...)                                                   \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, FUZZ_NAME ": %s: ", #cond);          \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			abort();                                             \
		}                                                            \
	} while (0)

#endif /* COOP_FUZZ_H */
