/* SPDX-License-Identifier: MIT */
/*
 * defs.h - the guest kernel's one cross-file header (xv6 style): every
 * function one file calls in another, grouped by the file that defines it.
 *
 * Layout: kernel/ is the core (main.c boots; platform.c is the only file
 * that knows how to switch to the host - a kmod backend replaces it; msg.c
 * moves messages through the passage's windows; virq.c and trap.S take
 * virtual interrupts, timer.c keeps time, proc.c runs threads; printk,
 * panic, kalloc, cmdline and a small libc), drivers/ has one file per
 * virtual device (cocon.c), apps/ what runs on top (shell.c, crash.c,
 * selftest.c).  The only contract with the host is coop/abi.h.  printf.c,
 * kalloc.c, crc32c.c, cmdline.c, msg.c, vecpick.c and timer.c also build on
 * the host for the unit tests in tests/unit/guest/, so nothing here may
 * clash with a libc name that those files use.
 *
 * Concurrency: one CPU, but virtual interrupts arrive between any two
 * instructions while vif is 1, and the timer preempts threads.  Shared
 * state is protected by irq_save()/irq_restore() (vif = 0), never by locks.
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

#define barrier() __asm__ volatile("" ::: "memory")
#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

/* The TSC, ordered after every earlier load (lfence: rdtsc is not serializing). */
static inline uint64_t rdtsc_ordered(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return ((uint64_t)hi << 32) | lo;
}

/* A busy-wait hint to the CPU (and to whoever shares its core). */
static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

/* main.c */
__noreturn void _start(void);
void kmain(void);

/* platform.c */
struct coop_passage *passage(void);
int hypercall(uint32_t code, const void *params, size_t len);
void platform_hypercall_counts(uint64_t counts[COOP_OP_COUNT]);
const char *platform_op_name(uint32_t code);
int platform_hello(void);
int platform_idle(uint64_t timeout_ns);
int platform_nop(void);
__noreturn void platform_terminate(int status);
__noreturn void poweroff(int status);

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
int msg_send_seq(uint16_t device, uint16_t unit, uint16_t type, uint64_t seq, uint16_t flags,
		 const void *payload, size_t len);
int msg_flush(void);
bool msg_queued(void);
void msg_start(void);
void msg_drain(void);
void msg_get_stats(struct msg_stats *st);

/* virq.c: the virtual interrupt flag and vector dispatch */
typedef void virq_handler_fn(unsigned int vector);
struct virq_stats {
	uint64_t async;    /* entries through trap.S (the host interrupted us) */
	uint64_t sync;     /* COOP_OP_IRQ_ENABLE deliveries (vif set again) */
	uint64_t handled;  /* handlers run (== passage virq.delivered) */
	uint64_t spurious; /* vectors taken that had no handler */
};
void virq_init(void);
void virq_register(unsigned int vector, virq_handler_fn *fn);
void irq_disable(void);
void irq_enable(void);
uint32_t irq_save(void);
void irq_restore(uint32_t flags);
bool irq_enabled(void);
bool virq_deliverable(void);
void virq_async(struct coop_irq_frame *frame);
void virq_again(struct coop_irq_frame *frame);
void virq_get_stats(struct virq_stats *st);

/* vecpick.c: pure, host-tested */
int virq_pick(const uint64_t pending[4], const uint64_t masked[4]);

/* trap.S (hidden, as -fvisibility=hidden makes C symbols: no GOT for their address) */
#define __asm_fn __attribute__((visibility("hidden")))
__asm_fn void virq_entry(struct coop_irq_frame *frame);
__asm_fn void virq_return(void);
__asm_fn void swtch(uint64_t *save_rsp, uint64_t load_rsp);
__asm_fn void thread_trampoline(void);
__noreturn void thread_main(void); /* proc.c, called from thread_trampoline */

/* timer.c */
#define TIMER_HZ_DEFAULT 250
#define TIMER_HZ_MIN 10
#define TIMER_HZ_MAX 10000
void timer_init(void);
int timer_parse_hz(const char *s, uint32_t *hz);
uint64_t tsc_to_ns(uint64_t tsc, uint64_t khz);
uint64_t clock_ns(void);
uint32_t timer_hz(void);
bool timer_running(void);
uint64_t timer_period_ns(void);
uint64_t timer_handled(void);
uint64_t jiffies(void);

/* proc.c: threads and the scheduler */
#define THREAD_NAME_MAX 16
enum thread_state { T_FREE, T_RUNNABLE, T_RUNNING, T_SLEEPING, T_BLOCKED, T_ZOMBIE };
struct thread_info {
	int tid;                     /* thread id */
	enum thread_state state;     /* what it does */
	char name[THREAD_NAME_MAX];  /* for stats */
	uint64_t switches;           /* times switched to */
};
void proc_init(void);
int thread_create(void (*fn)(void *), void *arg, const char *name);
__noreturn void thread_exit(void);
int thread_join(int tid);
void yield(void);
void schedule(void);
void sleep_ms(uint64_t ms);
void block(const void *chan);
void block_until(const void *chan, uint64_t deadline);
void wakeup(const void *chan);
void proc_tick(uint64_t now_ns);
bool proc_need_resched(void);
void proc_request_resched(void);
uint64_t proc_switches(void);
int proc_threads(struct thread_info *out, int max);
const char *thread_state_name(enum thread_state s);

/* crc32c.c */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);
void crc32c_init(void); /* at boot: the crc32 instruction if cpuid has SSE4.2, else crc32c_sw() */
uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len); /* table-driven, any x86-64 */

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
bool cocon_exec(void); /* the input is an --exec script (COOP_CON_EXEC) */
int cocon_write(const char *buf, size_t len);
int cocon_log(const char *buf, size_t len);
int cocon_receive(const struct coop_msg_hdr *hdr, const void *payload);
int cocon_readline(const char *prompt, char *buf, size_t size);

/* apps/shell.c */
int shell_run(void);

/* apps/crash.c (the host's crash backtraces show these names) */
int cmd_crash(int argc, char **argv);
#ifdef GUEST_HOSTILE
int cmd_hostile(int argc, char **argv); /* tests/guest/hostile.c: the test guest only */
#endif
void crash_segv(void);
void crash_ud(void);
int crash_div(void);
int crash_stack(int depth);
void crash_hang(void);
int crash_int(uint64_t n);

/* apps/selftest.c */
int cmd_selftest(int argc, char **argv);

/* ---- the block device ---------------------------------------------------- */

/* More errno values (Linux numbering), one guard each: host tests have <errno.h>. */
#ifndef EPERM
#define EPERM 1
#endif
#ifndef EIO
#define EIO 5
#endif
#ifndef ENXIO
#define ENXIO 6
#endif
#ifndef EAGAIN
#define EAGAIN 11
#endif
#ifndef EFAULT
#define EFAULT 14
#endif
#ifndef EBUSY
#define EBUSY 16
#endif
#ifndef ENODEV
#define ENODEV 19
#endif
#ifndef EFBIG
#define EFBIG 27
#endif
#ifndef EROFS
#define EROFS 30
#endif
#ifndef EOVERFLOW
#define EOVERFLOW 75
#endif
#ifndef EMSGSIZE
#define EMSGSIZE 90
#endif
#ifndef EOPNOTSUPP
#define EOPNOTSUPP 95
#endif
#ifndef ETIMEDOUT
#define ETIMEDOUT 110
#endif

/* errname.c */
const char *errno_name(int err);
const char *errno_text(int err);

/* sha256.c: pure, host-tested */
#define SHA256_BLOCK 64  /* bytes hashed at a time */
#define SHA256_DIGEST 32 /* bytes of a digest */
struct sha256_ctx {
	uint32_t h[8];               /* the intermediate hash value */
	uint64_t bytes;              /* message bytes so far */
	uint8_t buf[SHA256_BLOCK];   /* a block not yet complete ... */
	uint32_t used;               /* ... filled this far */
};
void sha256_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);
void sha256_final(struct sha256_ctx *c, uint8_t digest[SHA256_DIGEST]);
void sha256_hex(const uint8_t digest[SHA256_DIGEST], char hex[2 * SHA256_DIGEST + 1]);

/* drivers/cobd.c */
#define COBD_MAX_UNITS COOP_BOOT_MAX_DEVS
struct cobd_unit_info {
	uint16_t unit; /* N of cobdN: the unit in messages */
	bool ro;       /* the host serves it read-only (COOP_COBD_F_RO) */
	uint64_t size; /* bytes, a multiple of COOP_COBD_SECTOR */
};
struct cobd_stats {
	uint64_t requests;      /* requests made (an attempt and its retries are one) */
	uint64_t retries;       /* attempts sent again with the same id */
	uint64_t timeouts;      /* attempts that got no reply in time */
	uint64_t crc_errors;    /* data CRC mismatches (read replies, -EBADMSG writes) */
	uint64_t duplicates;    /* replies with an id nobody waits for: ignored */
	uint64_t errors;        /* requests that failed in the end */
	uint64_t irqs;          /* COOP_VEC_COBD handlers run */
	uint64_t bytes_read;    /* bytes read successfully */
	uint64_t bytes_written; /* bytes written successfully */
};
void cobd_init(void);
int cobd_receive(const struct coop_msg_hdr *hdr, const void *payload);
int cobd_info(unsigned int unit, struct cobd_unit_info *info);
unsigned int cobd_list(uint16_t *units, unsigned int max);
int cobd_read(unsigned int unit, uint64_t offset, void *buf, size_t len);
int cobd_write(unsigned int unit, uint64_t offset, const void *buf, size_t len);
int cobd_flush(unsigned int unit);
int cobd_request(unsigned int unit, uint32_t op, uint64_t offset, void *buf, uint32_t len);
bool cobd_nocrc(void);
uint64_t cobd_timeout_ms(void);
void cobd_get_stats(struct cobd_stats *st);

/* apps/blk.c */
int cmd_blk(int argc, char **argv);
void blk_print_stats(void);
int blk_pattern_check(const uint8_t *buf, uint64_t sector, uint64_t seed);
void blk_pattern_fill(uint8_t *buf, uint64_t sector, uint64_t count, uint64_t seed);

/* ---- the network device; the stack's own header is net/net.h ------------- */

/* drivers/conet.c */
struct conet_stats {
	uint64_t rx_frames;    /* frames the host delivered */
	uint64_t rx_bytes;     /* their bytes */
	uint64_t rx_ring_full; /* of those, dropped: the receive ring was full */
	uint64_t rx_bad;       /* messages that were not a frame (rejected) */
	uint64_t tx_frames;    /* frames sent to the host */
	uint64_t tx_bytes;     /* their bytes */
};
void conet_init(void);
bool conet_present(unsigned int unit);
bool conet_mac(unsigned int unit, uint8_t mac[6]);
void conet_get_stats(unsigned int unit, struct conet_stats *st);
int conet_send(unsigned int unit, const void *frame, size_t len);
int conet_receive(const struct coop_msg_hdr *hdr, const void *payload);
size_t conet_next_frame(unsigned int *unit, uint8_t *buf);

/* net/eth.c */
void net_init(void);

/* apps/netcmd.c */
int cmd_net(int argc, char **argv);

/* apps/bench.c */
int cmd_bench(int argc, char **argv);

#endif /* GUEST_DEFS_H */
