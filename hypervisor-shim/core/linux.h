/* SPDX-License-Identifier: MIT */
/*
 * linux.h - boot a Linux guest (guest/linux/; docs/kmod.md, "Linux
 * guests") on the kmod backend: its vmlinux at a 2 MiB aligned physical
 * address in the module's physical region, Linux's boot_params (e820,
 * command line, setup_data) in guest RAM, then the module's LOAD_LINUX.
 * The builders are pure functions over a buffer.  Unit tests:
 * tests/unit/shim/test_linux.c.
 */
#ifndef SHIM_LINUX_H
#define SHIM_LINUX_H

#include <stddef.h>
#include <stdint.h>

#include <coop/abi.h>

#include "core/loader.h"

/*
 * A Linux guest's RAM, by offset from its first byte (guest-physical
 * phys_start, coop's COOP_GUEST_BASE):
 *
 *   0        passage (64 KiB; the guest memblock_reserve()s it)
 *   64 KiB   Linux's zero page, struct boot_params
 *   68 KiB   the command line
 *   72 KiB   the setup_data chain: one COOP_LINUX_SETUP_TYPE entry
 *   2 MiB    the kernel image, _text to _end (CONFIG_PHYSICAL_ALIGN)
 *   ...      free RAM
 *   top      the initramfs (--initrd), page aligned, up to ram_size
 */
#define SHIM_LINUX_BOOT_PARAMS_OFF 0x10000
#define SHIM_LINUX_CMDLINE_OFF 0x11000
#define SHIM_LINUX_SETUP_DATA_OFF 0x12000
#define SHIM_LINUX_KERNEL_OFF 0x200000
#define SHIM_LINUX_KERNEL_ALIGN 0x200000
/* Linux's COMMAND_LINE_SIZE on x86: the command line and its NUL. */
#define SHIM_LINUX_CMDLINE_MAX 2048

/* What every Linux guest is started with; --cmdline appends to it (docs/cli.md). */
#define SHIM_LINUX_CMDLINE_DEFAULT                                                         \
	"console=hvc0 earlycon root=/dev/cobd0 rw mitigations=off nokaslr noapic nolapic " \
	"io_delay=none tsc=reliable clocksource=tsc"

/* The guest's direct-map base (__PAGE_OFFSET_BASE_L4 / _L5 of Linux 6.1). */
#define SHIM_LINUX_PAGE_OFFSET_L4 COOP_U64(0xffff888000000000)
#define SHIM_LINUX_PAGE_OFFSET_L5 COOP_U64(0xff11000000000000)

/* A PT_LOAD segment of vmlinux. */
struct shim_linux_seg {
	uint64_t paddr;  /* its link-time physical address (p_paddr) */
	uint64_t vaddr;  /* its virtual address (p_vaddr; 0 for .data..percpu) */
	uint64_t memsz;  /* bytes in memory (filesz + bss) */
	uint64_t offset; /* file offset of its bytes */
	uint64_t filesz; /* bytes taken from the file */
	uint32_t flags;  /* PF_R | PF_W | PF_X */
};

/* A checked vmlinux. */
struct shim_linux_image {
	uint64_t entry;     /* virtual address of coop_startup_64 (the LINUX_ENTRY note) */
	uint64_t paddr_lo;  /* lowest p_paddr: _text's link-time physical address */
	uint64_t size;      /* bytes from _text to _end (highest p_paddr + p_memsz) */
	uint64_t kernel_va; /* _text's virtual address: p_vaddr of the lowest segment */
	unsigned int nsegs; /* valid entries in segs[] */
	struct shim_linux_seg segs[SHIM_ELF_MAX_SEGS];
};

/* What boot_params says about the guest's memory and how to start. */
struct shim_linux_boot {
	uint64_t phys_start;  /* guest-physical (= host-physical) address of RAM's first byte */
	uint64_t ram_size;    /* bytes of RAM from there: one usable e820 range */
	const char *cmdline;  /* the whole command line, < SHIM_LINUX_CMDLINE_MAX bytes */
	uint64_t initrd_phys; /* an initramfs already in RAM (--initrd); 0: none */
	uint64_t initrd_size;
};

/* A Linux guest's side of struct shim_vm: what LOAD_LINUX is given. */
struct shim_linux_vm {
	uint64_t phys_base;         /* host-physical address of guest RAM; 0: not a Linux guest */
	unsigned int paging_levels; /* the host's, so the guest's (4 or 5) */
	uint64_t entry;             /* as struct coop_kmod_load_linux */
	uint64_t boot_params;
	uint64_t kernel_phys;
	uint64_t kernel_size;
	uint64_t kernel_va;
};

struct shim_vm;
struct shim_config;

/*
 * Check vmlinux (already through shim_elf_probe, kind->is_linux): 1 to
 * SHIM_ELF_MAX_SEGS PT_LOAD segments, each inside the file, filesz <= memsz,
 * no wrap-around, none overlapping another physically, _text.._end
 * contiguous enough to be one image, the entry inside an executable
 * segment.  0 and *img, or -ENOEXEC with a one-line reason.
 */
__attribute__((warn_unused_result)) int
shim_linux_check(const void *buf, size_t len, const struct shim_elf_kind *kind,
		 struct shim_linux_image *img, char *err, size_t errlen);

/*
 * Copy each segment to ram + SHIM_LINUX_KERNEL_OFF + (paddr - paddr_lo),
 * zeroing its bss; ram is ram_size bytes.  -E2BIG with a reason if the
 * image does not fit (nothing is copied then).
 */
__attribute__((warn_unused_result)) int
shim_linux_place(const void *buf, size_t len, const struct shim_linux_image *img, void *ram,
		 uint64_t ram_size, char *err, size_t errlen);

/*
 * The default command line, then extra (if not empty), into buf.
 * -E2BIG if that does not fit in len bytes.
 */
__attribute__((warn_unused_result)) int shim_linux_cmdline(const char *extra, char *buf,
							   size_t len);

/*
 * Build boot_params, the command line and the setup_data entry in guest
 * RAM (ram: the host address of b->phys_start) at the offsets above.
 * Returns boot_params' guest-physical address.
 */
uint64_t shim_linux_boot_params(void *ram, const struct shim_linux_boot *b);

/* The guest's direct-map base for 4- or 5-level paging. */
uint64_t shim_linux_page_offset(unsigned int paging_levels);

/*
 * vm.c's half for a Linux guest, before the devices: refuse the user
 * backend, get guest RAM from the module (backend/kmod), place the image,
 * build boot_params.  Errors as shim_vm_create's.
 */
__attribute__((warn_unused_result)) int
shim_linux_create(struct shim_vm *vm, const struct shim_config *cfg, const void *buf,
		  size_t len, const struct shim_elf_kind *kind, char *err, size_t errlen);

/* ... and after them: the passage's Linux fields, then LOAD_LINUX. */
__attribute__((warn_unused_result)) int shim_linux_start(struct shim_vm *vm, char *err,
							 size_t errlen);

#endif /* SHIM_LINUX_H */
