/* SPDX-License-Identifier: MIT */
/*
 * kalloc.c - the kernel heap: first fit over an address-ordered free list,
 * neighbours coalesced on free, 16-byte aligned blocks with a 16-byte
 * header.  Threads and vIRQ handlers share it: the list changes only with
 * vif = 0.  Builds on the host too: tests/unit/guest/test_kalloc.c.
 */
#include "defs.h"

#define KALLOC_ALIGN 16
/* Allocated blocks carry this; it is not a canonical address, so no free
 * block's next pointer can look like it. */
#define KALLOC_MAGIC 0xa110c8edc0ffee11ULL
#define KALLOC_MIN_BLOCK (2 * sizeof(struct kblock)) /* header + 16 bytes */

/* The header in front of every block, free or allocated. */
struct kblock {
	size_t size; /* bytes of the whole block, header included; a multiple of 16 */
	union {
		struct kblock *next; /* free block: the next free block, by address */
		uint64_t magic;      /* allocated block: KALLOC_MAGIC */
	};
};
_Static_assert(sizeof(struct kblock) == KALLOC_ALIGN, "the header keeps payloads aligned");

static struct {
	uintptr_t start;     /* first byte of the heap, aligned */
	uintptr_t end;       /* one past its last byte, aligned */
	struct kblock *free; /* free list, lowest address first */
	size_t free_bytes;   /* bytes in free blocks */
	size_t allocated;    /* blocks handed out */
} heap;

/* Manage [start, start + size) from now on; whatever was there is forgotten. */
void kalloc_init(void *start, size_t size)
{
	uintptr_t s = ALIGN_UP((uintptr_t)start, KALLOC_ALIGN);
	uintptr_t e = ALIGN_DOWN((uintptr_t)start + size, KALLOC_ALIGN);

	heap = (typeof(heap)){ .start = s, .end = s };
	if (e <= s || e - s < KALLOC_MIN_BLOCK)
		return;
	heap.end = e;
	heap.free = (struct kblock *)s;
	heap.free->size = e - s;
	heap.free->next = NULL;
	heap.free_bytes = e - s;
}

/* Take @need bytes from the front of free block @b (linked from *link). */
static void *kalloc_take(struct kblock **link, struct kblock *b, size_t need)
{
	struct kblock *rest;

	if (b->size - need >= KALLOC_MIN_BLOCK) {
		rest = (struct kblock *)((uintptr_t)b + need);
		rest->size = b->size - need;
		rest->next = b->next;
		*link = rest;
		b->size = need;
	} else {
		*link = b->next;
	}
	b->magic = KALLOC_MAGIC;
	heap.free_bytes -= b->size;
	heap.allocated++;
	return b + 1;
}

/* @size bytes, 16-byte aligned, or NULL.  kalloc(0) is a unique pointer. */
void *kalloc(size_t size)
{
	struct kblock **link, *b;
	uint32_t flags;
	void *p = NULL;
	size_t need;

	if (size > heap.end - heap.start)
		return NULL;
	need = ALIGN_UP(size ? size : 1, KALLOC_ALIGN) + sizeof(struct kblock);
	flags = irq_save();
	for (link = &heap.free; (b = *link); link = &b->next)
		if (b->size >= need) {
			p = kalloc_take(link, b, need);
			break;
		}
	irq_restore(flags);
	return p;
}

void *kzalloc(size_t size)
{
	void *p = kalloc(size);

	if (p)
		memset(p, 0, size);
	return p;
}

/* The header of an allocated block, or a panic if @ptr is not one. */
static struct kblock *kalloc_block(void *ptr)
{
	uintptr_t a = (uintptr_t)ptr;
	struct kblock *b = (struct kblock *)a - 1;

	if (a < heap.start + sizeof(*b) || a >= heap.end || a % KALLOC_ALIGN)
		panic("kfree: %p is not in the heap", ptr);
	if (b->magic != KALLOC_MAGIC)
		panic("kfree: %p is not allocated (double free?)", ptr);
	if (b->size < KALLOC_MIN_BLOCK || b->size % KALLOC_ALIGN ||
	    b->size > heap.end - (uintptr_t)b)
		panic("kfree: %p has a corrupt header (size %zu)", ptr, b->size);
	return b;
}

/* Merge @b with the free block right after it if they touch. */
static void kalloc_merge(struct kblock *b)
{
	struct kblock *n = b->next;

	if (n && (uintptr_t)b + b->size == (uintptr_t)n) {
		b->size += n->size;
		b->next = n->next;
	}
}

/* Give @ptr back; NULL is fine, anything not from kalloc() panics. */
void kfree(void *ptr)
{
	struct kblock *b, *prev = NULL, *n;
	uint32_t flags;

	if (!ptr)
		return;
	flags = irq_save();
	b = kalloc_block(ptr);
	for (n = heap.free; n && n < b; n = n->next)
		prev = n;
	b->next = n;
	heap.free_bytes += b->size;
	heap.allocated--;
	kalloc_merge(b);
	if (prev) {
		prev->next = b;
		kalloc_merge(prev);
	} else {
		heap.free = b;
	}
	irq_restore(flags);
}

void kalloc_stats(struct kalloc_stats *st)
{
	uint32_t flags = irq_save();
	struct kblock *b;

	*st = (struct kalloc_stats){
		.total = heap.end - heap.start,
		.free = heap.free_bytes,
		.allocated = heap.allocated,
	};
	for (b = heap.free; b; b = b->next) {
		st->free_blocks++;
		if (b->size > st->largest_free)
			st->largest_free = b->size;
	}
	irq_restore(flags);
}
