/* SPDX-License-Identifier: MIT */
/*
 * defs.h - the guest kernel's one cross-file header (xv6 style): every
 * function one file calls in another, grouped by the file that defines it.
 *
 * Layout: kernel/ is the core (main.c boots; platform.c is the only file
 * that knows how to switch to the host - a kmod backend replaces it; msg.c
 * moves messages through the passage's windows; printk, panic, kalloc,
 * cmdline and a small libc), drivers/ has one file per virtual device
 * (cocon.c), apps/ what runs on top (shell.c).  The only contract with the
 * host is coop/abi.h.  printf.c, kalloc.c and crc32c.c also build on the
 * host for the unit tests in tests/unit/guest/, so nothing here may clash
 * with a libc name that those files use.
 */
#ifndef GUEST_DEFS_H
#define GUEST_DEFS_H

#include <coop/abi.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef __noreturn
#define __noreturn __attribute__((noreturn))
#endif
#ifndef __printf
#define __printf(fmt, args) __attribute__((format(printf, fmt, args)))
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))

/* The errno values the guest uses (Linux numbering, as the host's). */
#ifndef E2BIG
#define E2BIG 7
#define ENOMEM 12
#define EINVAL 22
#define ENOSPC 28
#define ERANGE 34
#define ENOSYS 38
#define EPROTO 71
#define EBADMSG 74
#endif

/* main.c */
__noreturn void _start(void);
void kmain(void);
__noreturn void poweroff(int status);

/* platform.c */
struct coop_passage *passage(void);
int hypercall(uint32_t code);
int platform_hello(void);
int platform_idle(uint64_t timeout_ns);
__noreturn void platform_terminate(int status);

/* msg.c */
struct msg_stats {
	uint64_t sent;          /* messages put into the to_host window */
	uint64_t sent_bytes;    /* their payload bytes */
	uint64_t flushes;       /* COOP_OP_MESSAGE operations */
	uint64_t received;      /* messages handed to a driver */
	uint64_t received_bytes; /* their payload bytes */
	uint64_t bad;           /* host messages rejected (bounds, CRC, ...) */
	uint64_t unknown;       /* host messages for a device without a driver */
};
int msg_send(uint16_t device, uint16_t unit, uint16_t type, const void *payload,
	     size_t len);
int msg_flush(void);
void msg_drain(void);
void msg_get_stats(struct msg_stats *st);

/* crc32c.c */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

/* printf.c */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap) __printf(3, 0);
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);
int fmt_bytes(char *buf, size_t size, uint64_t bytes);

/* printk.c */
void printk(const char *fmt, ...) __printf(1, 2);
int kprintf(const char *fmt, ...) __printf(1, 2);
int kvprintf(const char *fmt, va_list ap) __printf(1, 0);
__noreturn void panic_at(const char *file, int line, const char *fmt, ...) __printf(3, 4);
#define panic(...) panic_at(__FILE__, __LINE__, __VA_ARGS__)

/* kalloc.c */
struct kalloc_stats {
	size_t total;        /* bytes managed (headers included) */
	size_t free;         /* bytes in free blocks (headers included) */
	size_t largest_free; /* biggest free block, header included */
	size_t free_blocks;  /* blocks on the free list */
	size_t allocated;    /* blocks handed out and not freed */
};
void kalloc_init(void *start, size_t size);
void *kalloc(size_t size);
void *kzalloc(size_t size);
void kfree(void *ptr);
void kalloc_stats(struct kalloc_stats *st);

/* string.c */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
int kstrtou64(const char *s, unsigned int base, uint64_t *out);

/* cmdline.c */
void cmdline_init(const char *raw);
const char *cmdline_raw(void);
const char *cmdline_get(const char *key);

/* drivers/cocon.c */
#define COCON_EOF (-1) /* cocon_readline(): end of console input */
void cocon_init(uint32_t console_flags);
bool cocon_interactive(void);
int cocon_write(const char *buf, size_t len);
int cocon_log(const char *buf, size_t len);
int cocon_receive(const struct coop_msg_hdr *hdr, const void *payload);
int cocon_readline(const char *prompt, char *buf, size_t size);

/* apps/shell.c */
int shell_run(void);

#endif /* GUEST_DEFS_H */
