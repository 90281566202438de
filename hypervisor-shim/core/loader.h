/* SPDX-License-Identifier: MIT */
/*
 * loader.h - validate a guest kernel ELF and copy it into guest RAM.
 * Everything is checked before anything is copied, so a bad file never
 * leaves a half-loaded guest.  Unit tests: tests/unit/shim/test_loader.c.
 */
#ifndef SHIM_LOADER_H
#define SHIM_LOADER_H

#include <elf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHIM_ELF_MAX_SEGS 16      /* PT_LOAD segments a guest kernel may have */
#define SHIM_ELF_MAX_FILE (256u << 20) /* largest kernel file we read */

struct shim_elf_seg {
	uint64_t vaddr;  /* guest address of the segment's first byte */
	uint64_t memsz;  /* bytes in memory (filesz + bss) */
	uint64_t offset; /* file offset of its bytes */
	uint64_t filesz; /* bytes taken from the file */
	uint32_t flags;  /* PF_R | PF_W | PF_X */
};

struct shim_elf_image {
	uint64_t entry;     /* guest address of the entry point */
	uint64_t start;     /* lowest guest address any segment touches */
	uint64_t end;       /* one past the highest */
	uint32_t abi_major; /* from the .note.coop ABI note */
	uint32_t abi_minor;
	unsigned int nsegs; /* valid entries in segs[] */
	struct shim_elf_seg segs[SHIM_ELF_MAX_SEGS];
};

/*
 * Check that buf[0..len) is a coop guest kernel that fits into guest
 * addresses [load_min, load_max): ELF64, little-endian, x86-64, ET_EXEC,
 * sane program headers inside the file, 1..SHIM_ELF_MAX_SEGS PT_LOAD
 * segments inside the file and inside the window, not overlapping each
 * other, filesz <= memsz, the entry point in an executable segment, and a
 * coop ABI note (in a PT_NOTE segment) with our MAJOR and a MINOR not
 * above ours.  Returns 0 and fills *img, or -ENOEXEC and writes a
 * one-line reason (no trailing newline) into err.  Reads nothing outside
 * buf.
 */
__attribute__((warn_unused_result)) int
shim_elf_check(const void *buf, size_t len, uint64_t load_min, uint64_t load_max,
	       struct shim_elf_image *img, char *err, size_t errlen);

/*
 * What a guest kernel ELF is, from its headers and notes alone
 * (shim_elf_probe): coop's own guest, or a Linux guest (a .note.coop note
 * of type COOP_NOTE_TYPE_LINUX_ENTRY), which core/linux.c loads.
 */
struct shim_elf_kind {
	bool is_linux;        /* a Linux guest: boot it with Linux's boot protocol */
	uint64_t linux_entry; /* ... its entry's virtual address (the note's desc) */
	unsigned int phnum;   /* program headers, for shim_elf_phdr */
	uint64_t phoff;       /* file offset of the first */
};

/*
 * The checks every guest kernel passes first: ELF64, little-endian,
 * x86-64, ET_EXEC, a program header table inside the file, well-formed
 * notes, a coop ABI note (if any) with our MAJOR and a MINOR not above
 * ours.  Returns 0 and fills *kind, or -ENOEXEC with a one-line reason in
 * err.  shim_elf_check() makes them too, then coop's own rules.
 */
__attribute__((warn_unused_result)) int
shim_elf_probe(const void *buf, size_t len, struct shim_elf_kind *kind, char *err,
	       size_t errlen);

/* Copy out program header i < kind->phnum of a file shim_elf_probe accepted. */
void shim_elf_phdr(const void *buf, const struct shim_elf_kind *kind, unsigned int i,
		   Elf64_Phdr *ph);

/*
 * Copy a checked image into guest RAM: ram is the host address of guest
 * address ram_base, ram_size bytes long.  Zeroes each segment's bss.
 * Returns 0, or -EINVAL with a reason if img does not fit that RAM.
 */
__attribute__((warn_unused_result)) int
shim_elf_load(const void *buf, size_t len, const struct shim_elf_image *img, void *ram,
	      uint64_t ram_base, uint64_t ram_size, char *err, size_t errlen);

/*
 * Read a whole regular file of at most max bytes into a malloc'ed buffer.
 * Returns 0, or -errno with a reason ("no such file", "is a directory",
 * "larger than N bytes", ...) in err.
 */
__attribute__((warn_unused_result)) int
shim_read_file(const char *path, size_t max, void **buf, size_t *len, char *err,
	       size_t errlen);

#endif /* SHIM_LOADER_H */
