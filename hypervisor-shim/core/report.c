/* SPDX-License-Identifier: MIT */
/* report.c - PLACEHOLDER (issue 4). */
#include <errno.h>

#include "core/shim.h"

int shim_report_write(const struct shim_vm *vm, const char *path)
{
	(void)vm;
	(void)path;
	errno = ENOSYS;
	return -ENOSYS;
}
