/* SPDX-License-Identifier: MIT */
/*
 * conet.c - PLACEHOLDER while the network device is being written (issue 4).
 */
#include <errno.h>
#include <stdio.h>

#include "core/shim.h"

static void conet_from_guest(struct shim_vm *vm, const struct coop_msg_hdr *h,
			     const uint8_t *payload)
{
	(void)payload;
	shim_kill_guest(vm, "conet%u: no such unit", h->unit);
}

const struct shim_device shim_conet_device = {
	.name = "conet",
	.from_guest = conet_from_guest,
};

int shim_conet_open(struct shim_vm *vm, const struct shim_config *cfg, char *err, size_t errlen)
{
	(void)vm;
	if (!cfg->nnets)
		return 0;
	snprintf(err, errlen, "--net %s: not built yet", cfg->nets[0]);
	return -ENOSYS;
}

void shim_conet_close(struct shim_vm *vm)
{
	(void)vm;
}
