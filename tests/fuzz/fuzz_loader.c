/* SPDX-License-Identifier: MIT */
/*
 * fuzz_loader.c - libFuzzer harness for the guest kernel loader: any bytes
 * as the --kernel file, through what vm.c's load_kernel() does with it.
 * shim_elf_check() against the window a 4 MiB guest gives the kernel;
 * an accepted image is copied into guest RAM (shim_elf_load) and checked
 * byte for byte, its unwind table registered (that reads .eh_frame_hdr
 * from guest RAM) and cancelled.  The symbol reader (symbols.c) takes
 * every input, accepted or not: the loader checks no section header, so
 * whatever they say reaches it.  Guest RAM is mapped where the user
 * backend maps it, with an inaccessible page either side: a stray access
 * faults, and libFuzzer keeps the input.  A Linux guest (the LINUX_ENTRY
 * note) goes through shim_elf_probe, shim_linux_check and, accepted and
 * small enough, shim_linux_place into the same RAM (core/linux.c).
 * Run: tests/fuzz/fuzz.sh loader SECONDS.
 */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/shim.h"

#define FUZZ_NAME "fuzz_loader"
#include "fuzz.h"

#define MEM (COOP_U64(4) << 20) /* the guest's RAM: COOP_MEM_MIN */
#define TOP (COOP_GUEST_BASE + MEM)
#define GUARD (TOP - COOP_BOOT_STACK_SIZE - COOP_STACK_GUARD_SIZE) /* as vm.c lays it out */
#define LOAD_MIN (COOP_GUEST_BASE + COOP_PASSAGE_SIZE)
#define ERRLEN 256



static uint8_t *ram; /* at COOP_GUEST_BASE, MEM bytes */

/* Guest RAM where the user backend puts it, between two PROT_NONE pages. */
static void map_ram(void)
{
	void *want = (void *)(uintptr_t)(COOP_GUEST_BASE - COOP_PAGE_SIZE);
	uint8_t *p = mmap(want, MEM + 2 * COOP_PAGE_SIZE, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);

	if (p != want) {
		fprintf(stderr, "fuzz_loader: cannot map guest RAM at %p\n", want);
		abort();
	}
	if (mprotect(p + COOP_PAGE_SIZE, MEM, PROT_READ | PROT_WRITE))
		abort();
	ram = p + COOP_PAGE_SIZE;
}

/* What an accepted image promises (loader.h), checked against the file. */
static void check_image(const struct shim_elf_image *img, size_t size)
{
	bool entry_ok = false;

	require(img->nsegs >= 1 && img->nsegs <= SHIM_ELF_MAX_SEGS, "%u segments", img->nsegs);
	require(img->abi_major == COOP_ABI_MAJOR && img->abi_minor <= COOP_ABI_MINOR,
		"ABI %u.%u", img->abi_major, img->abi_minor);
	require(img->start >= LOAD_MIN && img->start < img->end && img->end <= GUARD,
		"image [%#llx, %#llx)", (unsigned long long)img->start,
		(unsigned long long)img->end);
	for (unsigned int i = 0; i < img->nsegs; i++) {
		const struct shim_elf_seg *s = &img->segs[i];

		require(s->memsz && s->filesz <= s->memsz && s->offset <= size &&
			s->filesz <= size - s->offset, "segment %u outside the file", i);
		require(s->vaddr >= img->start && s->memsz <= img->end - s->vaddr,
			"segment %u outside [start, end)", i);
		require((s->flags & PF_R) && (s->flags & (PF_W | PF_X)) != (PF_W | PF_X),
			"segment %u flags %#x", i, s->flags);
		for (unsigned int j = 0; j < i; j++)
			require(s->vaddr >= img->segs[j].vaddr + img->segs[j].memsz ||
				img->segs[j].vaddr >= s->vaddr + s->memsz,
				"segments %u and %u overlap", j, i);
		if ((s->flags & PF_X) && img->entry >= s->vaddr && img->entry - s->vaddr < s->memsz)
			entry_ok = true;
	}
	require(entry_ok, "entry %#llx not in an executable segment",
		(unsigned long long)img->entry);
}

/* The copy in RAM: file bytes, then zeroes (bss). */
static void check_loaded(const struct shim_elf_image *img, const uint8_t *data)
{
	for (unsigned int i = 0; i < img->nsegs; i++) {
		const struct shim_elf_seg *s = &img->segs[i];
		const uint8_t *p = ram + (s->vaddr - COOP_GUEST_BASE);

		require(!memcmp(p, data + s->offset, s->filesz), "segment %u not copied", i);
		for (uint64_t k = s->filesz; k < s->memsz; k++)
			require(!p[k], "segment %u: bss byte %#llx is %#x", i,
				(unsigned long long)k, p[k]);
	}
}

/* The symbol reader on any file; each name it gives lies in its string table. */
static void symbols(const uint8_t *data, size_t size, const struct shim_elf_image *img)
{
	struct shim_symtab t;
	uint64_t off;

	shim_symbols_load(&t, data, size);
	for (size_t i = 0; i < t.count && i < 64; i++) {
		const char *name = shim_symbol(&t, t.syms[i].addr, &off);

		require(name && !off, "symbol %zu not found at its own address", i);
		require(strlen(name) <= size, "symbol %zu: a name longer than the file", i);
	}
	if (img)
		(void)shim_symbol(&t, img->entry, &off);
	(void)shim_symbol(&t, 0, &off);
	(void)shim_symbol(&t, UINT64_MAX, &off);
	shim_symbols_free(&t);
}

/*
 * A Linux guest: what linux.h promises of an accepted vmlinux (segments in
 * the file, physically apart, _text.._end around them, entry in code),
 * and its placement byte for byte when it fits MEM.
 */
static void linux_guest(const uint8_t *data, size_t size)
{
	struct shim_elf_kind kind;
	struct shim_linux_image img;
	char err[ERRLEN];
	int rc;

	if (shim_elf_probe(data, size, &kind, err, sizeof(err)) || !kind.is_linux)
		return;
	rc = shim_linux_check(data, size, &kind, &img, err, sizeof(err));
	if (rc) {
		require(rc == -ENOEXEC && err[0] && !strchr(err, '\n'), "rc %d, reason '%s'", rc, err);
		return;
	}
	require(img.nsegs >= 1 && img.nsegs <= SHIM_ELF_MAX_SEGS, "%u Linux segments", img.nsegs);
	for (unsigned int i = 0; i < img.nsegs; i++) {
		const struct shim_linux_seg *s = &img.segs[i];

		require(s->filesz <= s->memsz && s->offset + s->filesz <= size,
			"Linux segment %u outside the file", i);
		require(s->paddr >= img.paddr_lo && s->paddr - img.paddr_lo + s->memsz <= img.size,
			"Linux segment %u outside _text.._end", i);
	}
	rc = shim_linux_place(data, size, &img, ram, MEM, err, sizeof(err));
	if (rc) {
		require(rc == -E2BIG && img.size > MEM - SHIM_LINUX_KERNEL_OFF, "rc %d: %s", rc, err);
		return;
	}
	for (unsigned int i = 0; i < img.nsegs; i++) {
		const struct shim_linux_seg *s = &img.segs[i];

		require(!memcmp(ram + SHIM_LINUX_KERNEL_OFF + (s->paddr - img.paddr_lo),
				data + s->offset, s->filesz), "Linux segment %u not placed", i);
	}
	memset(ram + SHIM_LINUX_KERNEL_OFF, 0, img.size); /* zeroed RAM for the next input */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct shim_vm vm;
	struct shim_elf_image img;
	char err[ERRLEN];
	int rc;

	if (!ram)
		map_ram();
	linux_guest(data, size);
	memset(&img, 0xee, sizeof(img));
	rc = shim_elf_check(data, size, LOAD_MIN, GUARD, &img, err, sizeof(err));
	if (rc) {
		require(rc == -ENOEXEC && err[0] && !strchr(err, '\n'), "rc %d, reason '%s'", rc,
			err);
		symbols(data, size, NULL);
		return 0;
	}
	require(!err[0], "accepted with a reason '%s'", err);
	check_image(&img, size);
	rc = shim_elf_load(data, size, &img, ram, COOP_GUEST_BASE, MEM, err, sizeof(err));
	require(rc == 0, "a checked image does not load: %s", err);
	check_loaded(&img, data);
	symbols(data, size, &img);
	/* vm.c registers the guest's unwind table from the RAM it just loaded. */
	vm.ram = ram;
	vm.mem_size = MEM;
	vm.passage = (void *)ram;
	vm.image = img;
	shim_symbols_register_unwind(&vm, data, size);
	shim_symbols_unregister_unwind(&vm);
	/* The next input starts from zeroed RAM, as a new guest does. */
	for (unsigned int i = 0; i < img.nsegs; i++)
		memset(ram + (img.segs[i].vaddr - COOP_GUEST_BASE), 0, img.segs[i].memsz);
	return 0;
}
