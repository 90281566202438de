// SPDX-License-Identifier: MIT
/*
 * linux.c - load a Linux guest: a vmlinux (ET_EXEC, the kernel half of
 * the address space) with a .note.coop LINUX_ENTRY note.  It runs on the
 * kmod backend only, in physical memory the module owns, because its page
 * tables hold real physical addresses.  Each PT_LOAD goes to kernel_phys +
 * (p_paddr - lowest p_paddr); the kernel relocates itself physically
 * (phys_base), so nothing is patched.  Linux then reads boot_params (the
 * zero page) as from any boot loader.  docs/kmod.md, "Linux guests".
 */
#include <asm/bootparam.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/linux.h"
#include "core/shim.h"

/* The boot protocol version we fill in (2.15: ext_cmd_line_ptr and setup_data known). */
#define BOOT_PROTOCOL 0x020f
#define BOOT_HEADER_MAGIC 0x53726448 /* "HdrS" */
#define BOOT_FLAG 0xaa55
#define LOADER_UNDEFINED 0xff        /* type_of_loader: no assigned boot loader ID */

_Static_assert(SHIM_LINUX_BOOT_PARAMS_OFF >= COOP_PASSAGE_SIZE &&
		       SHIM_LINUX_BOOT_PARAMS_OFF + sizeof(struct boot_params) <=
			       SHIM_LINUX_CMDLINE_OFF &&
		       SHIM_LINUX_CMDLINE_OFF + SHIM_LINUX_CMDLINE_MAX <= SHIM_LINUX_SETUP_DATA_OFF &&
		       SHIM_LINUX_SETUP_DATA_OFF + sizeof(struct setup_data) +
				       sizeof(struct coop_linux_setup) <= SHIM_LINUX_KERNEL_OFF,
	       "the boot data fits between the passage and the kernel");
_Static_assert(SHIM_LINUX_KERNEL_OFF % SHIM_LINUX_KERNEL_ALIGN == 0,
	       "the kernel is 2 MiB aligned in a 2 MiB aligned region");

__attribute__((format(printf, 4, 5))) static int
fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

/* Record PT_LOAD program header idx, after checking it alone. */
static int take_load(const Elf64_Phdr *ph, unsigned int idx, size_t len,
		     struct shim_linux_image *img, char *err, size_t errlen)
{
	uint64_t fend, pend;

	if (ph->p_filesz > ph->p_memsz)
		return fail(err, errlen, -ENOEXEC, "segment %u has more bytes in the file (0x%" PRIx64
			    ") than in memory (0x%" PRIx64 ")", idx, ph->p_filesz, ph->p_memsz);
	if (__builtin_add_overflow(ph->p_offset, ph->p_filesz, &fend) || fend > len)
		return fail(err, errlen, -ENOEXEC, "truncated: segment %u (offset 0x%" PRIx64
			    ", 0x%" PRIx64 " bytes) ends past the end of the file (0x%zx bytes)",
			    idx, ph->p_offset, ph->p_filesz, len);
	if (__builtin_add_overflow(ph->p_paddr, ph->p_memsz, &pend))
		return fail(err, errlen, -ENOEXEC, "segment %u at physical 0x%" PRIx64
			    " wraps around the end of the address space", idx, ph->p_paddr);
	if (img->nsegs == SHIM_ELF_MAX_SEGS)
		return fail(err, errlen, -ENOEXEC, "more than %d loadable segments", SHIM_ELF_MAX_SEGS);
	for (unsigned int j = 0; j < img->nsegs; j++) {
		const struct shim_linux_seg *s = &img->segs[j];

		if (s->paddr < pend && ph->p_paddr < s->paddr + s->memsz)
			return fail(err, errlen, -ENOEXEC, "segment %u overlaps another physically "
				    "(p_paddr 0x%" PRIx64 ")", idx, ph->p_paddr);
	}
	img->segs[img->nsegs++] = (struct shim_linux_seg){
		.paddr = ph->p_paddr, .vaddr = ph->p_vaddr, .memsz = ph->p_memsz,
		.offset = ph->p_offset, .filesz = ph->p_filesz, .flags = ph->p_flags,
	};
	return 0;
}

/* _text.._end from the segments; the entry must be in an executable one. */
static int image_bounds(struct shim_linux_image *img, char *err, size_t errlen)
{
	uint64_t hi = 0;
	bool entry_ok = false;

	img->paddr_lo = UINT64_MAX;
	for (unsigned int i = 0; i < img->nsegs; i++) {
		const struct shim_linux_seg *s = &img->segs[i];

		if (s->paddr < img->paddr_lo) {
			img->paddr_lo = s->paddr;
			img->kernel_va = s->vaddr;
		}
		if (s->paddr + s->memsz > hi)
			hi = s->paddr + s->memsz;
		if ((s->flags & PF_X) && img->entry >= s->vaddr && img->entry - s->vaddr < s->memsz)
			entry_ok = true;
	}
	img->size = hi - img->paddr_lo;
	if (!entry_ok)
		return fail(err, errlen, -ENOEXEC, "the Linux entry 0x%" PRIx64
			    " (its .note.coop) is not in an executable segment", img->entry);
	return 0;
}

int shim_linux_check(const void *buf, size_t len, const struct shim_elf_kind *kind,
		     struct shim_linux_image *img, char *err, size_t errlen)
{
	struct shim_linux_image out = { .entry = kind->linux_entry };
	int rc;

	for (unsigned int i = 0; i < kind->phnum; i++) {
		Elf64_Phdr ph;

		shim_elf_phdr(buf, kind, i, &ph);
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		rc = take_load(&ph, i, len, &out, err, errlen);
		if (rc)
			return rc;
	}
	if (!out.nsegs)
		return fail(err, errlen, -ENOEXEC, "a Linux guest without loadable segments (no PT_LOAD)");
	rc = image_bounds(&out, err, errlen);
	if (rc)
		return rc;
	*img = out;
	return 0;
}

int shim_linux_place(const void *buf, size_t len, const struct shim_linux_image *img, void *ram,
		     uint64_t ram_size, char *err, size_t errlen)
{
	(void)len; /* shim_linux_check bounded every segment by it */
	if (ram_size < SHIM_LINUX_KERNEL_OFF || img->size > ram_size - SHIM_LINUX_KERNEL_OFF)
		return fail(err, errlen, -E2BIG, "the image (%" PRIu64 " KiB, _text to _end) does not "
			    "fit in %" PRIu64 " KiB of guest RAM above its first %u KiB",
			    img->size >> 10, ram_size >> 10, SHIM_LINUX_KERNEL_OFF >> 10);
	for (unsigned int i = 0; i < img->nsegs; i++) {
		const struct shim_linux_seg *s = &img->segs[i];
		uint8_t *dst = (uint8_t *)ram + SHIM_LINUX_KERNEL_OFF + (s->paddr - img->paddr_lo);

		memcpy(dst, (const uint8_t *)buf + s->offset, s->filesz);
		memset(dst + s->filesz, 0, s->memsz - s->filesz); /* bss */
	}
	return 0;
}

int shim_linux_cmdline(const char *extra, char *buf, size_t len)
{
	bool more = extra && *extra;
	int n = snprintf(buf, len, "%s%s%s", SHIM_LINUX_CMDLINE_DEFAULT, more ? " " : "",
			 more ? extra : "");

	return n < 0 || (size_t)n >= len ? -E2BIG : 0;
}

uint64_t shim_linux_page_offset(unsigned int paging_levels)
{
	return paging_levels == 5 ? SHIM_LINUX_PAGE_OFFSET_L5 : SHIM_LINUX_PAGE_OFFSET_L4;
}

/*
 * The e820 map: exactly the RAM the guest owns, all usable, as two
 * entries split after the passage.  Two, because Linux 6.1 ignores a map
 * of one entry (append_e820_table in arch/x86/kernel/e820.c: "Only one
 * memory region? Ignore it") and falls back to guessing 640 KiB at 0 and
 * RAM from 1 MiB: host memory.  It merges the two again (the BIOS-e820
 * line shows one range); the passage it reserves itself.
 */
static void boot_e820(struct boot_params *bp, const struct shim_linux_boot *b)
{
	bp->e820_table[0] = (struct boot_e820_entry){
		.addr = b->phys_start, .size = COOP_PASSAGE_SIZE, .type = 1 /* E820_TYPE_RAM */,
	};
	bp->e820_table[1] = (struct boot_e820_entry){
		.addr = b->phys_start + COOP_PASSAGE_SIZE, .size = b->ram_size - COOP_PASSAGE_SIZE,
		.type = 1,
	};
	bp->e820_entries = 2;
}

/* The setup_data chain: one entry telling the guest where the passage is. */
static uint64_t boot_setup_data(void *ram, const struct shim_linux_boot *b)
{
	struct setup_data sd = {
		.next = 0, .type = COOP_LINUX_SETUP_TYPE, .len = sizeof(struct coop_linux_setup),
	};
	struct coop_linux_setup cs = {
		.passage = b->phys_start, .major = COOP_ABI_MAJOR, .minor = COOP_ABI_MINOR,
	};
	uint8_t *p = (uint8_t *)ram + SHIM_LINUX_SETUP_DATA_OFF;

	memcpy(p, &sd, sizeof(sd));
	memcpy(p + sizeof(sd), &cs, sizeof(cs));
	return b->phys_start + SHIM_LINUX_SETUP_DATA_OFF;
}

uint64_t shim_linux_boot_params(void *ram, const struct shim_linux_boot *b)
{
	struct boot_params *bp = (void *)((uint8_t *)ram + SHIM_LINUX_BOOT_PARAMS_OFF);
	struct setup_header *h = &bp->hdr;
	uint64_t cmdline = b->phys_start + SHIM_LINUX_CMDLINE_OFF;

	memset(bp, 0, sizeof(*bp));
	snprintf((char *)ram + SHIM_LINUX_CMDLINE_OFF, SHIM_LINUX_CMDLINE_MAX, "%s", b->cmdline);
	h->boot_flag = BOOT_FLAG;
	h->header = BOOT_HEADER_MAGIC;
	h->version = BOOT_PROTOCOL;
	h->type_of_loader = LOADER_UNDEFINED;
	h->loadflags = LOADED_HIGH;
	h->kernel_alignment = SHIM_LINUX_KERNEL_ALIGN;
	h->cmd_line_ptr = (uint32_t)cmdline;
	bp->ext_cmd_line_ptr = (uint32_t)(cmdline >> 32);
	h->cmdline_size = SHIM_LINUX_CMDLINE_MAX - 1;
	h->hardware_subarch = COOP_LINUX_SUBARCH;
	h->ramdisk_image = (uint32_t)b->initrd_phys;
	h->ramdisk_size = (uint32_t)b->initrd_size;
	bp->ext_ramdisk_image = (uint32_t)(b->initrd_phys >> 32);
	bp->ext_ramdisk_size = (uint32_t)(b->initrd_size >> 32);
	h->setup_data = boot_setup_data(ram, b);
	boot_e820(bp, b);
	return b->phys_start + SHIM_LINUX_BOOT_PARAMS_OFF;
}

/* Place a checked image; it goes into vm->image too. */
static int place_kernel(struct shim_vm *vm, const void *buf, size_t len,
			const struct shim_linux_image *img, char *err, size_t errlen)
{
	int rc = shim_linux_place(buf, len, img, vm->ram, vm->mem_size, err, errlen);

	if (rc)
		return rc;
	vm->lx.entry = img->entry;
	vm->lx.kernel_phys = vm->lx.phys_base + SHIM_LINUX_KERNEL_OFF;
	vm->lx.kernel_size = img->size;
	vm->lx.kernel_va = img->kernel_va;
	/* By virtual address: crash reports name guest code with vmlinux's symbols. */
	vm->image = (struct shim_elf_image){ .entry = img->entry, .start = img->kernel_va,
					     .end = img->kernel_va + img->size, .nsegs = img->nsegs };
	for (unsigned int i = 0; i < img->nsegs; i++)
		vm->image.segs[i] = (struct shim_elf_seg){
			.vaddr = img->segs[i].vaddr, .memsz = img->segs[i].memsz,
			.offset = img->segs[i].offset, .filesz = img->segs[i].filesz,
			.flags = img->segs[i].flags,
		};
	return 0;
}

/*
 * --initrd: the file at the top of guest RAM, page aligned, above the
 * kernel image (Linux reserves it from boot_params and frees it once
 * unpacked); its guest-physical address in *phys.
 */
static int place_initrd(struct shim_vm *vm, const struct shim_config *cfg,
			const struct shim_linux_image *img, uint64_t *phys, uint64_t *size,
			char *err, size_t errlen)
{
	uint64_t low = SHIM_LINUX_KERNEL_OFF + img->size, off;
	char why[SHIM_ERR_MAX];
	void *buf;
	size_t len;
	int rc = shim_read_file(cfg->initrd, vm->mem_size, &buf, &len, why, sizeof(why));

	if (rc)
		return fail(err, errlen, rc, "--initrd %s: %s", cfg->initrd, why);
	off = (vm->mem_size - len) & ~(uint64_t)(COOP_PAGE_SIZE - 1);
	if (!len || len > vm->mem_size || off < low) {
		free(buf);
		return fail(err, errlen, -EINVAL, "--initrd %s: %zu bytes%s", cfg->initrd, len,
			    len ? " do not fit in guest RAM above the kernel (a larger --mem?)" :
				  ": empty");
	}
	memcpy((uint8_t *)vm->ram + off, buf, len);
	free(buf);
	*phys = vm->lx.phys_base + off;
	*size = len;
	return 0;
}

int shim_linux_create(struct shim_vm *vm, const struct shim_config *cfg, const void *buf,
		      size_t len, const struct shim_elf_kind *kind, char *err, size_t errlen)
{
	char cmdline[SHIM_LINUX_CMDLINE_MAX], why[SHIM_ERR_MAX];
	struct shim_linux_image img;
	uint64_t initrd_phys = 0, initrd_size = 0;
	int rc;

	if (cfg->backend != SHIM_BACKEND_KMOD)
		return fail(err, errlen, -EINVAL, "--kernel %s: a Linux guest; it runs on --backend "
			    "kmod only", cfg->kernel);
	/* Its passage copy, boot.cmdline, is the shorter. */
	if (shim_linux_cmdline(cfg->cmdline, cmdline, COOP_CMDLINE_MAX))
		return fail(err, errlen, -EINVAL, "--cmdline: with a Linux guest's defaults (%zu "
			    "bytes) the command line is longer than %d bytes",
			    strlen(SHIM_LINUX_CMDLINE_DEFAULT), COOP_CMDLINE_MAX - 1);
	/* The whole file is checked before the module is asked for anything. */
	rc = shim_linux_check(buf, len, kind, &img, why, sizeof(why));
	if (rc)
		return fail(err, errlen, rc, "--kernel %s: %s", cfg->kernel, why);
	vm->guard = 0; /* no guard page: its stacks are the guest's own */
	rc = host_kmod_create_linux(vm, cfg->mem_size, err, errlen);
	if (rc)
		return rc;
	rc = place_kernel(vm, buf, len, &img, why, sizeof(why));
	if (rc)
		return fail(err, errlen, rc, "--kernel %s: %s", cfg->kernel, why);
	if (cfg->initrd) {
		rc = place_initrd(vm, cfg, &img, &initrd_phys, &initrd_size, err, errlen);
		if (rc)
			return rc;
	}
	shim_symbols_load(&vm->syms, buf, len);
	vm->lx.boot_params = shim_linux_boot_params(vm->ram, &(struct shim_linux_boot){
		.phys_start = vm->lx.phys_base, .ram_size = vm->mem_size, .cmdline = cmdline,
		.initrd_phys = initrd_phys, .initrd_size = initrd_size,
	});
	return 0;
}

int shim_linux_start(struct shim_vm *vm, char *err, size_t errlen)
{
	struct coop_boot_params *b = &vm->passage->boot;

	/* Guest-physical addresses, as the guest's boot_params and messages use them. */
	b->mem_base = vm->lx.phys_base;
	b->kernel_start = vm->lx.kernel_phys;
	b->kernel_end = vm->lx.kernel_phys + vm->lx.kernel_size;
	b->heap_start = b->heap_end = b->stack_base = b->stack_top = 0;
	b->flags = COOP_BOOT_F_LINUX | COOP_BOOT_F_PHYS_ADDRS;
	snprintf(b->cmdline, sizeof(b->cmdline), "%s",
		 (const char *)vm->ram + SHIM_LINUX_CMDLINE_OFF);
	return host_kmod_load_linux(vm, shim_linux_page_offset(vm->lx.paging_levels), err, errlen);
}
