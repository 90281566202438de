/* SPDX-License-Identifier: MIT */
/*
 * printk.c - kernel log lines (COOP_COCON_LOG), program output
 * (COOP_COCON_WRITE) and panic(), which reports file:line and a message
 * to the host in the passage and never returns.
 */
#include "defs.h"

#define PRINTK_PREFIX "coop-guest: "
#define PRINTK_MAX 512 /* a longer log line is cut, ending in "..." */
#define KPRINTF_STACK 512 /* longer output is formatted in a kalloc'ed buffer */

/* One log line, prefixed "coop-guest: " and ending in exactly one newline. */
void printk(const char *fmt, ...)
{
	static const char prefix[] = PRINTK_PREFIX;
	const size_t plen = sizeof(prefix) - 1, room = PRINTK_MAX - plen - 1;
	char line[PRINTK_MAX];
	va_list ap;
	size_t n;
	int len;

	memcpy(line, prefix, plen);
	va_start(ap, fmt);
	len = kvsnprintf(line + plen, room + 1, fmt, ap);
	va_end(ap);
	n = len < 0 ? 0 : (size_t)len;
	if (n > room) {
		n = room;
		memcpy(line + plen + n - 3, "...", 3);
	}
	n += plen;
	if (line[n - 1] != '\n')
		line[n++] = '\n';
	cocon_log(line, n);
}

/* Program output, as printf: returns the number of bytes written. */
int kvprintf(const char *fmt, va_list ap)
{
	char small[KPRINTF_STACK], *big;
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = kvsnprintf(small, sizeof(small), fmt, ap);
	if (n < (int)sizeof(small)) {
		cocon_write(small, (size_t)n);
	} else if ((big = kalloc((size_t)n + 1))) {
		kvsnprintf(big, (size_t)n + 1, fmt, aq);
		cocon_write(big, (size_t)n);
		kfree(big);
	} else { /* out of memory: what fits, said so */
		cocon_write(small, sizeof(small) - 1);
		printk("kprintf: no memory for %d bytes of output, cut", n);
	}
	va_end(aq);
	return n;
}

int kprintf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvprintf(fmt, ap);
	va_end(ap);
	return n;
}

/* Copy the tail of @file that fits into dst[size] (the name is at the end). */
static void panic_file(char *dst, size_t size, const char *file)
{
	size_t n = strlen(file);

	if (n >= size)
		file += n - (size - 1);
	ksnprintf(dst, size, "%s", file);
}

/*
 * Report a panic to the host and stop.  vif goes to 0 first: no handler
 * and no other thread runs after a panic.  Output queued so far is
 * flushed, unless this is a panic inside that flush.
 */
void panic_at(const char *file, int line, const char *fmt, ...)
{
	static int panicking;
	struct coop_op_panic pp = { .line = line < 0 ? 0 : (uint32_t)line };
	va_list ap;

	irq_disable();
	va_start(ap, fmt);
	kvsnprintf(pp.message, sizeof(pp.message), fmt, ap);
	va_end(ap);
	panic_file(pp.file, sizeof(pp.file), file);
	if (!panicking++)
		msg_flush();
	for (;;)
		hypercall(COOP_OP_PANIC, &pp, sizeof(pp));
}
