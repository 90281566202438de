/* SPDX-License-Identifier: MIT */
/* mbr.c - PLACEHOLDER (issue 4). */
#include "core/shim.h"
