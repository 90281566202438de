/* SPDX-License-Identifier: MIT */
/*
 * devices.c - the device backends the monitor has, in the order vm.c opens
 * them (and closes them in reverse): block units first, then network
 * units (their boot-parameter entries come in that order), then the
 * console.  A new device is a file with a struct shim_device and a line here.
 */
#include "devices/devices.h"

const struct shim_device *const shim_devices[] = {
	&shim_cobd_device,
	&shim_conet_device,
	&shim_cocon_device,
};

const unsigned int shim_ndevices = sizeof(shim_devices) / sizeof(shim_devices[0]);
