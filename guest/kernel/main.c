/* SPDX-License-Identifier: MIT */
/*
 * main.c - boot: _start (entered like a C function, on the boot stack),
 * the ABI handshake, checks of the boot parameters, then the heap, the
 * console, virtual interrupts, threads, the timer and the shell, which
 * the boot thread becomes.  Run it: build/bin/coop run --exec info
 */
#include "defs.h"

/* Stop early if the host's boot parameters cannot be right. */
static void boot_check(const struct coop_boot_params *b)
{
	const uint64_t ram = b->mem_base, end = b->mem_base + b->mem_size;

	if (b->mem_base != COOP_GUEST_BASE || b->mem_size < COOP_MEM_MIN ||
	    b->mem_size > COOP_MEM_MAX)
		panic("boot: RAM %#llx+%#llx is not what the ABI says",
		      (unsigned long long)b->mem_base, (unsigned long long)b->mem_size);
	if (b->kernel_start < ram + COOP_KERNEL_OFFSET || b->kernel_end < b->kernel_start ||
	    b->kernel_end > end)
		panic("boot: kernel %#llx-%#llx is not inside RAM",
		      (unsigned long long)b->kernel_start, (unsigned long long)b->kernel_end);
	if (b->heap_start < b->kernel_end || b->heap_end < b->heap_start || b->heap_end > end)
		panic("boot: heap %#llx-%#llx is not free RAM",
		      (unsigned long long)b->heap_start, (unsigned long long)b->heap_end);
	if (b->stack_base < b->heap_end || b->stack_top < b->stack_base || b->stack_top > end)
		panic("boot: stack %#llx-%#llx is not free RAM",
		      (unsigned long long)b->stack_base, (unsigned long long)b->stack_top);
}

/* The one line that says what booted. */
static void boot_log(const struct coop_passage *p)
{
	const struct coop_boot_params *b = &p->boot;
	char ram[24], kernel[24], heap[24];

	fmt_bytes(ram, sizeof(ram), b->mem_size);
	fmt_bytes(kernel, sizeof(kernel), b->kernel_end - b->kernel_start);
	fmt_bytes(heap, sizeof(heap), b->heap_end - b->heap_start);
	printk("ABI %u.%u (host %u.%u), RAM %s, kernel %#llx-%#llx (%s), heap %s, "
	       "cmdline \"%s\"", COOP_ABI_MAJOR, COOP_ABI_MINOR, p->hdr.host_major,
	       p->hdr.host_minor, ram, (unsigned long long)b->kernel_start,
	       (unsigned long long)b->kernel_end, kernel, heap, cmdline_raw());
}

void kmain(void)
{
	struct coop_passage *p = passage();
	int err;

	crc32c_init(); /* before any message: the CRC for this CPU */
	/* First of all, even to a host we do not understand: it refuses us. */
	err = platform_hello();
	if (err || p->hdr.magic != COOP_PASSAGE_MAGIC || p->hdr.host_major != COOP_ABI_MAJOR)
		panic("boot: the host refused ABI %u.%u (host %u.%u, magic %#llx): %d",
		      COOP_ABI_MAJOR, COOP_ABI_MINOR, p->hdr.host_major, p->hdr.host_minor,
		      (unsigned long long)p->hdr.magic, err);
	boot_check(&p->boot);
	kalloc_init((void *)(uintptr_t)p->boot.heap_start,
		    p->boot.heap_end - p->boot.heap_start);
	cmdline_init(p->boot.cmdline);
	virq_init();
	cocon_init(p->boot.console_flags);
	conet_init();
	msg_start();
	boot_log(p);
	cobd_init(); /* after the boot line: it logs the units */
	proc_init();
	net_init(); /* the network thread: after proc_init() */
	timer_init();
	irq_enable(); /* from here on handlers run, and threads are preempted */
	poweroff(shell_run());
}

/*
 * The entry point.  The host calls it on the boot stack like a C function
 * with no arguments.  Its return address is the host's bottom frame
 * (coop_guest_bottom in switch.S), whose CFI leads unwinders on into the
 * host's run loop: a crash backtrace shows both kernels.  So no
 * .cfi_undefined rip here; returning would trap in the host (ud2).
 */
__attribute__((section(".text.entry"))) void _start(void)
{
	kmain();
	printk("kmain returned");
	poweroff(1);
}
