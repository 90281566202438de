/* SPDX-License-Identifier: MIT */
/*
 * util.h - small host-side helpers that every part of coop (trace, the
 * monitor, the commands, bench) may use, and that use nothing of coop.
 */
#ifndef COOP_UTIL_H
#define COOP_UTIL_H

#include <stddef.h>

/*
 * path = the directory of the running executable, "/", name: where the
 * build puts what coop finds beside itself (the guest kernel, the probes,
 * the analysis package).  0, or -errno (-ENAMETOOLONG when it does not fit).
 */
int coop_beside_exe(const char *name, char *path, size_t len);

/*
 * tty.c: put a terminal into raw mode for the guest's console, and restore
 * it on every way out of coop (async-signal-safe, for crash handlers too).
 */
int coop_tty_raw(int fd);
void coop_tty_restore(void);

#endif /* COOP_UTIL_H */
