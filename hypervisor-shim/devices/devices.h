/* SPDX-License-Identifier: MIT */
/* devices.h - the device backends devices.c registers, each defined in its own file. */
#ifndef SHIM_DEVICES_H
#define SHIM_DEVICES_H

#include "core/shim.h"

extern const struct shim_device shim_cobd_device;  /* cobd.c */
extern const struct shim_device shim_conet_device; /* conet.c */
extern const struct shim_device shim_cocon_device; /* cocon.c */

#endif /* SHIM_DEVICES_H */
