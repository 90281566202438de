/* SPDX-License-Identifier: MIT */
/*
 * proc.c - kernel threads and a round-robin scheduler (xv6's, on one CPU,
 * with virtual interrupts instead of locks: scheduler state changes only
 * with vif = 0).  The timer tick ends a time slice; a thread with nothing
 * to do blocks on a wait channel or sleeps; when nobody can run, the idle
 * thread asks the host to wait (COOP_OP_IDLE).  Try: coop run --exec stats
 */
#include "defs.h"

#define NTHREAD 16                   /* threads at most, idle and boot included */
#define THREAD_STACK (16 * 1024)     /* bytes of a kalloc'ed thread stack */
#define STACK_CANARY 0x5eedc0defacade57ULL /* at the bottom of every kalloc'ed stack */

/* One thread. */
struct thread {
	uint64_t rsp;             /* saved stack pointer while switched out (swtch) */
	enum thread_state state;  /* T_FREE: the slot is unused */
	int tid;                  /* id, > 0, never reused */
	char name[THREAD_NAME_MAX]; /* for stats */
	uint64_t *stack;          /* kalloc'ed stack (canary at [0]); NULL: boot stack */
	void (*fn)(void *);       /* what a new thread runs ... */
	void *arg;                /* ... with this */
	const void *chan;         /* wait channel while T_BLOCKED */
	uint64_t deadline;        /* clock_ns() to wake at while T_SLEEPING */
	uint64_t switches;        /* times switched to */
};

static struct {
	struct thread threads[NTHREAD]; /* [0] is the boot thread (the shell) */
	struct thread *cur;             /* the running thread */
	struct thread *idle;            /* runs when nothing else can */
	bool need_resched;              /* a tick or a wakeup: schedule() soon */
	uint64_t switches;              /* context switches */
	int next_tid;                   /* tid of the next thread created */
} proc;

const char *thread_state_name(enum thread_state s)
{
	static const char *const names[] = {
		[T_FREE] = "free",         [T_RUNNABLE] = "runnable", [T_RUNNING] = "running",
		[T_SLEEPING] = "sleeping", [T_BLOCKED] = "blocked",   [T_ZOMBIE] = "zombie",
	};

	return (unsigned int)s < ARRAY_SIZE(names) ? names[s] : "?";
}

/* A smashed canary means the thread ran off the bottom of its stack. */
static void stack_check(const struct thread *t)
{
	if (t->stack && t->stack[0] != STACK_CANARY)
		panic("thread %d (%s): stack overflow, canary at %p smashed", t->tid, t->name,
		      (void *)t->stack);
}

/* The next thread to run: round robin after @prev, idle if nobody else. */
static struct thread *pick_next(struct thread *prev)
{
	unsigned int i, start = (unsigned int)(prev - proc.threads);
	struct thread *t;

	for (i = 1; i <= NTHREAD; i++) {
		t = &proc.threads[(start + i) % NTHREAD];
		if (t != proc.idle && (t->state == T_RUNNABLE || t->state == T_RUNNING))
			return t;
	}
	return proc.idle;
}

/*
 * Give the CPU to the next thread; returns when this one runs again.
 * vif must be 0: nothing may change the thread table meanwhile.  The
 * caller has set cur->state (RUNNING to stay runnable).
 */
void schedule(void)
{
	struct thread *prev = proc.cur, *next;

	if (irq_enabled())
		panic("schedule: called with vif = 1");
	stack_check(prev);
	proc.need_resched = false;
	next = pick_next(prev);
	if (next == prev) {
		prev->state = T_RUNNING;
		return;
	}
	stack_check(next);
	if (prev->state == T_RUNNING)
		prev->state = T_RUNNABLE;
	next->state = T_RUNNING;
	next->switches++;
	proc.switches++;
	proc.cur = next;
	swtch(&prev->rsp, next->rsp);
}

bool proc_need_resched(void)
{
	return READ_ONCE(proc.need_resched) && proc.cur;
}

void proc_request_resched(void)
{
	proc.need_resched = true;
}

/* Let the other runnable threads have a turn. */
void yield(void)
{
	uint32_t f = irq_save();

	schedule();
	irq_restore(f);
}

/* Wait on @chan until wakeup(@chan); vif must be 0 (the caller checked its condition). */
void block(const void *chan)
{
	if (irq_enabled())
		panic("block: called with vif = 1 (a wakeup could be lost)");
	proc.cur->chan = chan;
	proc.cur->deadline = 0; /* no timeout: only wakeup() ends the wait */
	proc.cur->state = T_BLOCKED;
	schedule();
	proc.cur->chan = NULL;
}

/*
 * As block(), but also woken once clock_ns() >= @deadline (by the tick,
 * or by the idle thread's timed COOP_OP_IDLE).  The caller tells the two
 * apart by looking at its condition and the clock again.
 */
void block_until(const void *chan, uint64_t deadline)
{
	if (irq_enabled())
		panic("block_until: called with vif = 1 (a wakeup could be lost)");
	proc.cur->chan = chan;
	proc.cur->deadline = deadline;
	proc.cur->state = T_BLOCKED;
	schedule();
	proc.cur->chan = NULL;
	proc.cur->deadline = 0;
}

/* Does @t wait for a deadline (sleep_ms(), block_until())? */
static bool has_deadline(const struct thread *t)
{
	return t->state == T_SLEEPING || (t->state == T_BLOCKED && t->deadline);
}

/* Make every thread blocked on @chan runnable (any context). */
void wakeup(const void *chan)
{
	uint32_t f = irq_save();
	struct thread *t;

	for (t = proc.threads; t < proc.threads + NTHREAD; t++)
		if (t->state == T_BLOCKED && t->chan == chan) {
			t->state = T_RUNNABLE;
			proc.need_resched = true;
		}
	irq_restore(f);
}

/* Make the sleepers (and timed blockers) whose deadline passed runnable; vif = 0. */
static void wake_sleepers(uint64_t now)
{
	struct thread *t;

	for (t = proc.threads; t < proc.threads + NTHREAD; t++)
		if (has_deadline(t) && t->deadline <= now) {
			t->state = T_RUNNABLE;
			proc.need_resched = true;
		}
}

/* The timer tick (a vIRQ handler): sleepers, and the end of the time slice. */
void proc_tick(uint64_t now_ns)
{
	wake_sleepers(now_ns);
	proc.need_resched = true;
}

/* Sleep until clock_ns() >= @deadline. */
static void sleep_until(uint64_t deadline)
{
	uint32_t f = irq_save();

	while (clock_ns() < deadline) {
		proc.cur->deadline = deadline;
		proc.cur->state = T_SLEEPING;
		schedule();
	}
	irq_restore(f);
}

void sleep_ms(uint64_t ms)
{
	sleep_until(clock_ns() + ms * 1000000);
}

/* The earliest deadline of a sleeper or timed blocker, or 0 if none; vif = 0. */
static uint64_t next_deadline(void)
{
	uint64_t first = 0;
	struct thread *t;

	for (t = proc.threads; t < proc.threads + NTHREAD; t++)
		if (has_deadline(t) && (!first || t->deadline < first))
			first = t->deadline;
	return first;
}

/* Anything but the idle thread runnable? vif = 0. */
static bool anyone_runnable(void)
{
	return pick_next(proc.idle) != proc.idle;
}

/*
 * Nothing to run: wait in the host until an event (a vIRQ, console input)
 * or the earliest sleeper's deadline.  vif = 0.  Checked for pending
 * vectors first: the host may not count those as an event to wake for.
 */
static void idle_wait(void)
{
	uint64_t first = next_deadline(), now = clock_ns(), timeout = 0;
	int err;

	if (virq_deliverable())
		return;
	if (first)
		timeout = first > now ? first - now : 1;
	err = platform_idle(timeout);
	if (err && !first)
		panic("idle: the host refused COOP_OP_IDLE (%d) and nothing can wake us", err);
}

/* The idle thread: runs when nothing else can. */
static void idle_main(void *arg)
{
	uint32_t f;

	(void)arg;
	for (;;) {
		f = irq_save();
		wake_sleepers(clock_ns()); /* the tick may be off: the IDLE timeout wakes us */
		if (anyone_runnable())
			schedule();
		else
			idle_wait();
		irq_restore(f); /* delivers what the host raised meanwhile */
	}
}

/* Where thread_trampoline goes: vif on (we came from schedule()), run, exit. */
void thread_main(void)
{
	struct thread *t = proc.cur;

	irq_enable();
	t->fn(t->arg);
	thread_exit();
}

/* Lay out a new stack so that swtch() "returns" into thread_trampoline. */
static void thread_stack_init(struct thread *t)
{
	uintptr_t top = ALIGN_DOWN((uintptr_t)t->stack + THREAD_STACK, 16);
	uint64_t *sp = (uint64_t *)(top - 16); /* two zero words: no caller */

	t->stack[0] = STACK_CANARY;
	sp[0] = sp[1] = 0;
	/* After swtch pops six registers and rets, rsp == top - 16: aligned. */
	*--sp = (uint64_t)(uintptr_t)thread_trampoline;
	sp -= 6;
	memset(sp, 0, 6 * sizeof(*sp)); /* r15 .. rbp */
	t->rsp = (uint64_t)(uintptr_t)sp;
}

static struct thread *thread_slot(void)
{
	struct thread *t;

	for (t = proc.threads; t < proc.threads + NTHREAD; t++)
		if (t->state == T_FREE)
			return t;
	return NULL;
}

/* Start fn(arg) in a new thread; its tid, or -ENOMEM / -ENOSPC. */
int thread_create(void (*fn)(void *), void *arg, const char *name)
{
	uint64_t *stack = kalloc(THREAD_STACK);
	uint32_t f = irq_save();
	struct thread *t = thread_slot();
	int tid;

	if (!t || !stack) {
		irq_restore(f);
		kfree(stack);
		return t ? -ENOMEM : -ENOSPC;
	}
	*t = (struct thread){ .tid = ++proc.next_tid, .stack = stack, .fn = fn, .arg = arg };
	ksnprintf(t->name, sizeof(t->name), "%s", name);
	thread_stack_init(t);
	t->state = T_RUNNABLE;
	tid = t->tid;
	irq_restore(f);
	return tid;
}

/* End the calling thread; a thread_join() frees what it used. */
void thread_exit(void)
{
	irq_disable();
	if (proc.cur == &proc.threads[0] || proc.cur == proc.idle)
		panic("thread_exit: thread %s cannot exit", proc.cur->name);
	proc.cur->state = T_ZOMBIE;
	wakeup(proc.cur);
	schedule();
	panic("thread_exit: a zombie ran");
}

/* Wait for thread @tid to exit and free it: 0, or -EINVAL if there is no such thread. */
int thread_join(int tid)
{
	uint32_t f = irq_save();
	struct thread *t;
	void *stack;

	for (t = proc.threads; t < proc.threads + NTHREAD; t++)
		if (t->state != T_FREE && t->tid == tid)
			break;
	if (t == proc.threads + NTHREAD || t == proc.cur || t == proc.idle) {
		irq_restore(f);
		return -EINVAL;
	}
	while (t->state != T_ZOMBIE)
		block(t);
	stack_check(t);
	stack = t->stack;
	*t = (struct thread){ .state = T_FREE };
	irq_restore(f);
	kfree(stack);
	return 0;
}

uint64_t proc_switches(void)
{
	return READ_ONCE(proc.switches);
}

/* Up to @max threads in use, into @out; returns how many. */
int proc_threads(struct thread_info *out, int max)
{
	uint32_t f = irq_save();
	const struct thread *t;
	int n = 0;

	for (t = proc.threads; t < proc.threads + NTHREAD && n < max; t++) {
		if (t->state == T_FREE)
			continue;
		out[n].tid = t->tid;
		out[n].state = t->state;
		out[n].switches = t->switches;
		memcpy(out[n].name, t->name, sizeof(out[n].name));
		n++;
	}
	irq_restore(f);
	return n;
}

/*
 * The boot thread becomes thread 1 ("shell") on the host's boot stack
 * (guarded by the host's guard page, so no canary), and the idle thread
 * is made.  Before this, nothing may schedule.
 */
void proc_init(void)
{
	struct thread *boot = &proc.threads[0];
	int tid;

	*boot = (struct thread){ .state = T_RUNNING, .tid = ++proc.next_tid, .name = "shell" };
	proc.cur = boot;
	tid = thread_create(idle_main, NULL, "idle");
	if (tid < 0)
		panic("proc_init: no idle thread (%d)", tid);
	proc.idle = &proc.threads[1];
}
