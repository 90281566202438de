/* SPDX-License-Identifier: MIT */
/* beside.c - the one lookup of a file beside the coop executable (util.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/util.h"

int coop_beside_exe(const char *name, char *path, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n < 0)
		return -errno;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	if ((size_t)snprintf(path, len, "%s/%s", slash ? exe : ".", name) >= len)
		return -ENAMETOOLONG;
	return 0;
}
