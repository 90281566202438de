/* SPDX-License-Identifier: MIT */
/*
 * util.h - small host-side helpers that every part of coop (trace, the
 * monitor, the commands, bench) may use, and that use nothing of coop.
 */
#ifndef COOP_UTIL_H
#define COOP_UTIL_H

#include <stddef.h>
#include <stdint.h>

/*
 * path = the directory of the running executable, "/", name: where the
 * build puts what coop finds beside itself (the guest kernel, the probes,
 * the analysis package).  0, or -errno (-ENAMETOOLONG when it does not fit).
 */
int coop_beside_exe(const char *name, char *path, size_t len);

/*
 * A number a user typed, all of s: decimal digits, or 0x and hex digits;
 * nothing else (no blanks, no sign, no junk after it, not empty).  0 and
 * *out set, -EINVAL (not a number) or -ERANGE (above max, or past 2^64-1).
 */
int coop_parse_u64(const char *s, uint64_t max, uint64_t *out);

/*
 * tty.c: put a terminal into raw mode for the guest's console, and restore
 * it on every way out of coop (async-signal-safe, for crash handlers too).
 */
int coop_tty_raw(int fd);
void coop_tty_restore(void);

#endif /* COOP_UTIL_H */
