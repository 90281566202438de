/* SPDX-License-Identifier: MIT */
/*
 * errname.c - names and short descriptions of the errno values the guest
 * meets (Linux numbering, as the host's), for messages such as
 * "blk write cobd0 0+8: error EROFS (read-only)".
 */
#include "defs.h"

/* One errno value. */
struct errname {
	int err;          /* positive errno */
	const char *name; /* "EROFS" */
	const char *text; /* "read-only" */
};

static const struct errname errnames[] = {
	{ EPERM, "EPERM", "not permitted" },
	{ EIO, "EIO", "I/O error" },
	{ ENXIO, "ENXIO", "no such device or address" },
	{ E2BIG, "E2BIG", "too big" },
	{ EAGAIN, "EAGAIN", "try again" },
	{ ENOMEM, "ENOMEM", "out of memory" },
	{ EFAULT, "EFAULT", "bad address" },
	{ EBUSY, "EBUSY", "busy" },
	{ ENODEV, "ENODEV", "no such device" },
	{ EINVAL, "EINVAL", "invalid argument" },
	{ EFBIG, "EFBIG", "too large" },
	{ ENOSPC, "ENOSPC", "no space left" },
	{ EROFS, "EROFS", "read-only" },
	{ ERANGE, "ERANGE", "out of range" },
	{ ENOSYS, "ENOSYS", "not implemented" },
	{ EPROTO, "EPROTO", "protocol error" },
	{ EBADMSG, "EBADMSG", "data CRC mismatch" },
	{ EOVERFLOW, "EOVERFLOW", "overflow" },
	{ EMSGSIZE, "EMSGSIZE", "message too long" },
	{ EOPNOTSUPP, "EOPNOTSUPP", "operation not supported" },
	{ ETIMEDOUT, "ETIMEDOUT", "timed out" },
};

static const struct errname *errname_find(int err)
{
	size_t i;

	if (err < 0)
		err = -err;
	for (i = 0; i < ARRAY_SIZE(errnames); i++)
		if (errnames[i].err == err)
			return &errnames[i];
	return NULL;
}

/* "EROFS" for EROFS or -EROFS; "E?" for a value not in the table. */
const char *errno_name(int err)
{
	const struct errname *e = errname_find(err);

	return e ? e->name : "E?";
}

/* "read-only" for EROFS or -EROFS; "unknown error" for a value not in the table. */
const char *errno_text(int err)
{
	const struct errname *e = errname_find(err);

	return e ? e->text : "unknown error";
}
