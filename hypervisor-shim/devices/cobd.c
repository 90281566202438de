/* SPDX-License-Identifier: MIT */
/* cobd.c - PLACEHOLDER while the block device is being written (issue 4). */
#include <errno.h>
#include <stdio.h>

#include "core/shim.h"

static void cobd_from_guest(struct shim_vm *vm, const struct coop_msg_hdr *h, const uint8_t *p)
{
	(void)p;
	shim_kill_guest(vm, "cobd%u: no such unit", h->unit);
}

const struct shim_device shim_cobd_device = { .name = "cobd", .from_guest = cobd_from_guest };

int shim_cobd_open(struct shim_vm *vm, const struct shim_config *cfg, char *err, size_t errlen)
{
	(void)vm;
	if (!cfg->ndisks)
		return 0;
	snprintf(err, errlen, "--disk %s: not built yet", cfg->disks[0]);
	return -ENOSYS;
}

void shim_cobd_close(struct shim_vm *vm)
{
	(void)vm;
}
