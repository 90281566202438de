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
__noreturn void poweroff(int status);

/* platform.c */
struct coop_passage *passage(void);
int hypercall(uint32_t code, const void *params, size_t len);
void platform_hypercall_counts(uint64_t counts[COOP_OP_COUNT]);
const char *platform_op_name(uint32_t code);
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
void wakeup(const void *chan);
void proc_tick(uint64_t now_ns);
bool proc_need_resched(void);
void proc_request_resched(void);
uint64_t proc_switches(void);
int proc_threads(struct thread_info *out, int max);
const char *thread_state_name(enum thread_state s);

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

/* apps/crash.c (the host's crash backtraces show these names) */
int cmd_crash(int argc, char **argv);
void crash_segv(void);
void crash_ud(void);
int crash_div(void);
int crash_stack(int depth);
void crash_hang(void);

/* apps/selftest.c */
int cmd_selftest(int argc, char **argv);

#endif /* GUEST_DEFS_H */
