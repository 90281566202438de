/* SPDX-License-Identifier: MIT */
/* mbr.h - partition N of a whole-disk image, from its MBR (devices/mbr.c). */
#ifndef SHIM_MBR_H
#define SHIM_MBR_H

#include <stddef.h>
#include <stdint.h>

/*
 * sector is the image's first 512 bytes.  Returns 0 with the partition's
 * byte offset and size, or -EINVAL with the reason in err.
 */
__attribute__((warn_unused_result)) int mbr_partition(const uint8_t sector[512],
						      uint64_t image_size, unsigned int n,
						      uint64_t *offset, uint64_t *size, char *err,
						      size_t errlen);

#endif
