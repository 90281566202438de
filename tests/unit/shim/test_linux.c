// SPDX-License-Identifier: MIT
/*
 * test_linux.c - unit tests for hypervisor-shim/core/linux.c, no module
 * needed: the command line, the boot_params/e820/setup_data builder read
 * back through Linux's own uapi structs, and the vmlinux checks and
 * placement on the fake vmlinux tests/linux/ builds with gcc/ld
 * ($COOP_FAKE_VMLINUX, $COOP_FAKE_VMLINUX_NOLOAD; ctest sets both).
 * Run: build/tests/test_linux.
 */
#include <check.h>

#include "unit.h"
#include <asm/bootparam.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <coop/abi.h>

#include "core/linux.h"
#include "core/loader.h"
#include "core/shim.h"

#define ERRLEN 256
#define PHYS (COOP_U64(0x20000000))  /* qemu-run.sh --linux's memmap= region */
#define RAM (COOP_U64(256) << 20)
#define BUILT (SHIM_LINUX_KERNEL_OFF) /* the builder writes below the kernel only */

/* ---- The command line ---------------------------------------------------- */

START_TEST(test_cmdline_default)
{
	char buf[SHIM_LINUX_CMDLINE_MAX];

	ck_assert_int_eq(shim_linux_cmdline("", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, SHIM_LINUX_CMDLINE_DEFAULT);
	ck_assert_int_eq(shim_linux_cmdline(NULL, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, SHIM_LINUX_CMDLINE_DEFAULT);
	ck_assert_ptr_nonnull(strstr(buf, "console=hvc0 earlycon root=/dev/cobd0 rw"));
	ck_assert_ptr_nonnull(strstr(buf, "nokaslr noapic nolapic io_delay=none"));
}
END_TEST

START_TEST(test_cmdline_appends)
{
	char buf[SHIM_LINUX_CMDLINE_MAX];

	ck_assert_int_eq(shim_linux_cmdline("init=/bin/sh quiet", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, SHIM_LINUX_CMDLINE_DEFAULT " init=/bin/sh quiet");
}
END_TEST

START_TEST(test_cmdline_too_long)
{
	size_t n = strlen(SHIM_LINUX_CMDLINE_DEFAULT);
	char buf[SHIM_LINUX_CMDLINE_MAX];

	ck_assert_int_eq(shim_linux_cmdline("x", buf, n + 3), 0); /* default, ' ', 'x', NUL */
	ck_assert_int_eq(shim_linux_cmdline("xy", buf, n + 3), -E2BIG);
	ck_assert_int_eq(shim_linux_cmdline("", buf, n), -E2BIG);
}
END_TEST

START_TEST(test_page_offset)
{
	ck_assert_uint_eq(shim_linux_page_offset(4), COOP_U64(0xffff888000000000));
	ck_assert_uint_eq(shim_linux_page_offset(5), COOP_U64(0xff11000000000000));
}
END_TEST

/* ---- boot_params ------------------------------------------------------- */

/* Guest RAM up to the kernel, filled with junk the builder must overwrite. */
static uint8_t *junk_ram(void)
{
	uint8_t *ram = malloc(BUILT);

	ck_assert_ptr_nonnull(ram);
	memset(ram, 0xa5, BUILT);
	return ram;
}

static const struct boot_params *built(uint8_t *ram, const char *cmdline, uint64_t *phys)
{
	struct shim_linux_boot b = { .phys_start = PHYS, .ram_size = RAM, .cmdline = cmdline };

	*phys = shim_linux_boot_params(ram, &b);
	return (const struct boot_params *)(ram + SHIM_LINUX_BOOT_PARAMS_OFF);
}

/* A guest-physical address of RAM as a pointer into the test's buffer. */
static const void *at(const uint8_t *ram, uint64_t phys)
{
	ck_assert_uint_ge(phys, PHYS);
	ck_assert_uint_lt(phys, PHYS + BUILT);
	return ram + (phys - PHYS);
}

START_TEST(test_boot_header)
{
	uint8_t *ram = junk_ram();
	uint64_t phys;
	const struct boot_params *bp = built(ram, "console=hvc0 x", &phys);
	const struct setup_header *h = &bp->hdr;

	ck_assert_uint_eq(phys, PHYS + SHIM_LINUX_BOOT_PARAMS_OFF);
	ck_assert_uint_eq(h->boot_flag, 0xaa55);
	ck_assert_uint_eq(h->header, 0x53726448);
	ck_assert_uint_ge(h->version, 0x020c); /* ext_cmd_line_ptr, setup_data known */
	ck_assert_uint_eq(h->type_of_loader, 0xff);
	ck_assert_uint_eq(h->hardware_subarch, COOP_LINUX_SUBARCH);
	ck_assert_uint_eq(h->loadflags & LOADED_HIGH, LOADED_HIGH);
	/* No initrd yet; a zeroed page otherwise (sentinel 0: Linux keeps every field). */
	ck_assert_uint_eq(h->ramdisk_image | h->ramdisk_size, 0);
	ck_assert_uint_eq(bp->ext_ramdisk_image | bp->ext_ramdisk_size, 0);
	ck_assert_uint_eq(bp->sentinel, 0);
	ck_assert_uint_eq(bp->alt_mem_k, 0);
	free(ram);
}
END_TEST

START_TEST(test_boot_cmdline)
{
	uint8_t *ram = junk_ram();
	uint64_t phys, ptr;
	const struct boot_params *bp = built(ram, "console=hvc0 earlycon foo=bar", &phys);

	ptr = bp->hdr.cmd_line_ptr | (uint64_t)bp->ext_cmd_line_ptr << 32;
	ck_assert_uint_eq(ptr, PHYS + SHIM_LINUX_CMDLINE_OFF);
	ck_assert_str_eq((const char *)at(ram, ptr), "console=hvc0 earlycon foo=bar");
	ck_assert_uint_ge(bp->hdr.cmdline_size, strlen(SHIM_LINUX_CMDLINE_DEFAULT));
	free(ram);
}
END_TEST

START_TEST(test_boot_setup_data)
{
	uint8_t *ram = junk_ram();
	uint64_t phys;
	const struct boot_params *bp = built(ram, "", &phys);
	const struct setup_data *sd = at(ram, bp->hdr.setup_data);
	struct coop_linux_setup cs;

	ck_assert_uint_eq(sd->next, 0); /* the only entry */
	ck_assert_uint_eq(sd->type, COOP_LINUX_SETUP_TYPE);
	ck_assert_uint_eq(sd->len, sizeof(cs));
	memcpy(&cs, sd->data, sizeof(cs));
	ck_assert_uint_eq(cs.passage, PHYS); /* the passage: RAM's first byte */
	ck_assert_uint_eq(cs.major, COOP_ABI_MAJOR);
	ck_assert_uint_eq(cs.minor, COOP_ABI_MINOR);
	/* Between the boot data and the kernel, none of it in the passage. */
	ck_assert_uint_ge(bp->hdr.setup_data, PHYS + COOP_PASSAGE_SIZE);
	ck_assert_uint_le(bp->hdr.setup_data + sizeof(*sd) + sd->len, PHYS + SHIM_LINUX_KERNEL_OFF);
	free(ram);
}
END_TEST

/*
 * The e820 map is exactly [PHYS, PHYS + RAM), all usable, in at least two
 * entries (Linux 6.1 ignores a map of one) that abut without a gap.
 */
START_TEST(test_boot_e820)
{
	uint8_t *ram = junk_ram();
	uint64_t phys, next = PHYS;
	const struct boot_params *bp = built(ram, "", &phys);

	ck_assert_uint_ge(bp->e820_entries, 2);
	ck_assert_uint_le(bp->e820_entries, E820_MAX_ENTRIES_ZEROPAGE);
	for (unsigned int i = 0; i < bp->e820_entries; i++) {
		const struct boot_e820_entry *e = &bp->e820_table[i];

		ck_assert_uint_eq(e->type, 1); /* E820_TYPE_RAM */
		ck_assert_uint_eq(e->addr, next);
		ck_assert_uint_gt(e->size, 0);
		next = e->addr + e->size;
	}
	ck_assert_uint_eq(next, PHYS + RAM);
	ck_assert_uint_eq(bp->e820_table[bp->e820_entries].size, 0); /* the rest: zero */
	free(ram);
}
END_TEST

/* The builder writes only its three blocks: the passage is left alone. */
START_TEST(test_boot_passage_untouched)
{
	uint8_t *ram = junk_ram();
	uint64_t phys;

	built(ram, "", &phys);
	for (size_t i = 0; i < COOP_PASSAGE_SIZE; i++)
		ck_assert_uint_eq(ram[i], 0xa5);
	free(ram);
}
END_TEST

/* ---- vmlinux: the fake one tests/linux/ builds -------------------------- */

struct file {
	void *buf;
	size_t len;
};

static struct file read_fake(const char *var)
{
	const char *path = getenv(var);
	struct file f = { 0 };
	char err[ERRLEN];
	int rc;

	ck_assert_msg(path, "$%s is not set: run through ctest", var);
	rc = shim_read_file(path, SHIM_ELF_MAX_FILE, &f.buf, &f.len, err, ERRLEN);
	ck_assert_msg(rc == 0, "%s: %s", path, err);
	return f;
}

/* The fake, probed and checked: both must accept it. */
static struct file checked_fake(struct shim_elf_kind *kind, struct shim_linux_image *img)
{
	struct file f = read_fake("COOP_FAKE_VMLINUX");
	char err[ERRLEN];
	int rc;

	rc = shim_elf_probe(f.buf, f.len, kind, err, ERRLEN);
	ck_assert_msg(rc == 0, "%s", err);
	ck_assert(kind->is_linux);
	rc = shim_linux_check(f.buf, f.len, kind, img, err, ERRLEN);
	ck_assert_msg(rc == 0, "%s", err);
	return f;
}

START_TEST(test_fake_probe)
{
	struct shim_elf_kind kind;
	struct shim_linux_image img;
	struct file f = checked_fake(&kind, &img);
	Elf64_Ehdr eh;

	memcpy(&eh, f.buf, sizeof(eh));
	ck_assert_uint_eq(kind.linux_entry, eh.e_entry); /* ENTRY(coop_startup_64) */
	/* text, data, .data..percpu (virtual 0), init + bss: Linux's four. */
	ck_assert_uint_eq(img.nsegs, 4);
	ck_assert_uint_eq(img.paddr_lo, 0x1000000);
	ck_assert_uint_eq(img.kernel_va, COOP_U64(0xffffffff81000000));
	ck_assert_uint_eq(img.segs[2].vaddr, 0);
	ck_assert_uint_eq(img.size, img.segs[3].paddr + img.segs[3].memsz - 0x1000000);
	free(f.buf);
}
END_TEST

/* Not a Linux guest: coop's own (no LINUX_ENTRY note). */
START_TEST(test_small_guest_probe)
{
	const char *path = getenv("COOP_GUEST");
	struct shim_elf_kind kind;
	char err[ERRLEN];
	void *buf;
	size_t len;

	if (!path)
		return;
	ck_assert_int_eq(shim_read_file(path, SHIM_ELF_MAX_FILE, &buf, &len, err, ERRLEN), 0);
	ck_assert_int_eq(shim_elf_probe(buf, len, &kind, err, ERRLEN), 0);
	ck_assert(!kind.is_linux);
	free(buf);
}
END_TEST

START_TEST(test_fake_place)
{
	const uint64_t ram_size = COOP_U64(8) << 20;
	struct shim_elf_kind kind;
	struct shim_linux_image img;
	struct file f = checked_fake(&kind, &img);
	char err[ERRLEN];
	uint8_t *ram = malloc(ram_size);
	int rc;

	ck_assert_ptr_nonnull(ram);
	memset(ram, 0xa5, ram_size);
	rc = shim_linux_place(f.buf, f.len, &img, ram, ram_size, err, ERRLEN);
	ck_assert_msg(rc == 0, "%s", err);
	for (unsigned int i = 0; i < img.nsegs; i++) {
		const struct shim_linux_seg *s = &img.segs[i];
		const uint8_t *dst = ram + SHIM_LINUX_KERNEL_OFF + (s->paddr - img.paddr_lo);

		ck_assert_mem_eq(dst, (const uint8_t *)f.buf + s->offset, s->filesz);
		for (uint64_t j = s->filesz; j < s->memsz; j++)
			ck_assert_uint_eq(dst[j], 0); /* bss */
	}
	ck_assert_uint_eq(ram[SHIM_LINUX_KERNEL_OFF], 0xc3); /* _text, fake_vmlinux.S's bytes */
	ck_assert_uint_eq(ram[SHIM_LINUX_KERNEL_OFF - 1], 0xa5); /* nothing below the kernel */
	free(ram);
	free(f.buf);
}
END_TEST

START_TEST(test_fake_does_not_fit)
{
	const uint64_t ram_size = SHIM_LINUX_KERNEL_OFF + 4096;
	struct shim_elf_kind kind;
	struct shim_linux_image img;
	struct file f = checked_fake(&kind, &img);
	char err[ERRLEN];
	uint8_t *ram = malloc(ram_size);

	ck_assert_ptr_nonnull(ram);
	memset(ram, 0xa5, ram_size);
	ck_assert_int_eq(shim_linux_place(f.buf, f.len, &img, ram, ram_size, err, ERRLEN), -E2BIG);
	ck_assert_ptr_nonnull(strstr(err, "does not fit"));
	ck_assert_uint_eq(ram[SHIM_LINUX_KERNEL_OFF], 0xa5); /* nothing copied */
	ck_assert_int_eq(shim_linux_place(f.buf, f.len, &img, ram, 4096, err, ERRLEN), -E2BIG);
	free(ram);
	free(f.buf);
}
END_TEST

/*
 * The file in $var, with its note's entry replaced by entry (0: kept),
 * must pass the probe and be refused by the check with a reason holding
 * phrase.
 */
static void expect_refused(const char *var, uint64_t entry, const char *phrase)
{
	struct file f = read_fake(var);
	struct shim_elf_kind kind;
	struct shim_linux_image img;
	char err[ERRLEN];

	ck_assert_int_eq(shim_elf_probe(f.buf, f.len, &kind, err, ERRLEN), 0);
	ck_assert(kind.is_linux);
	if (entry)
		kind.linux_entry = entry;
	ck_assert_int_eq(shim_linux_check(f.buf, f.len, &kind, &img, err, ERRLEN), -ENOEXEC);
	ck_assert_msg(strstr(err, phrase), "reason '%s' lacks '%s'", err, phrase);
	free(f.buf);
}

START_TEST(test_fake_no_load)
{
	expect_refused("COOP_FAKE_VMLINUX_NOLOAD", 0, "no PT_LOAD");
}
END_TEST

/* Entry outside every executable segment: the note points into data. */
START_TEST(test_fake_entry_not_exec)
{
	expect_refused("COOP_FAKE_VMLINUX", COOP_U64(0xffffffff81200000) /* .data */,
		       "not in an executable segment");
}
END_TEST

/* Every truncation of the fake is refused by the probe or the check, never read past. */
START_TEST(test_fake_truncated)
{
	struct file f = read_fake("COOP_FAKE_VMLINUX");
	struct shim_elf_kind kind;
	struct shim_linux_image img;
	char err[ERRLEN];

	for (size_t len = 0; len < f.len; len += len < 4096 ? 1 : 97) {
		void *copy = malloc(len ? len : 1); /* exactly len bytes: ASan sees an overread */
		int rc;

		memcpy(copy, f.buf, len);
		rc = shim_elf_probe(copy, len, &kind, err, ERRLEN);
		if (!rc) {
			ck_assert(kind.is_linux); /* the note comes before every segment */
			rc = shim_linux_check(copy, len, &kind, &img, err, ERRLEN);
		}
		/* Cut after the last segment's file bytes, it is whole again. */
		if (rc == 0)
			ck_assert_uint_ge(len, img.segs[img.nsegs - 1].offset);
		else
			ck_assert_int_eq(rc, -ENOEXEC);
		free(copy);
	}
	free(f.buf);
}
END_TEST

/* ---- Physical addresses in messages (COOP_BOOT_F_PHYS_ADDRS) ------------ */

/*
 * Every message address, from a seed: inside [PHYS, PHYS + RAM) it is the
 * same offset from COOP_GUEST_BASE, anywhere else 0, which no check of
 * guest_mem.c lets through; a small guest's addresses pass unchanged.
 */
START_TEST(test_msg_addr)
{
	struct shim_vm vm = { .mem_size = RAM };
	uint64_t seed = 0x5eed, edges[] = { 0, 1, PHYS - 1, PHYS, PHYS + 4096, PHYS + RAM - 1,
					    PHYS + RAM, PHYS + RAM + 1, UINT64_MAX, COOP_GUEST_BASE };

	ck_assert_uint_eq(shim_guest_msg_addr(&vm, PHYS), PHYS); /* not Linux: as given */
	vm.lx.phys_base = PHYS;
	for (unsigned int i = 0; i < 100000; i++) {
		uint64_t a, got;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		a = i < sizeof(edges) / sizeof(edges[0]) ? edges[i]
		    : i % 2 ? PHYS - RAM + (seed >> 20) % (3 * RAM) : seed;
		got = shim_guest_msg_addr(&vm, a);
		if (a >= PHYS && a < PHYS + RAM)
			ck_assert_msg(got == COOP_GUEST_BASE + (a - PHYS), "address %#llx -> %#llx",
				      (unsigned long long)a, (unsigned long long)got);
		else
			ck_assert_msg(got == 0 && !shim_guest_range(&vm, got, 1),
				      "address %#llx -> %#llx", (unsigned long long)a,
				      (unsigned long long)got);
	}
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("linux");
	TCase *cmd = tcase_create("cmdline"), *boot = tcase_create("boot_params");
	TCase *elf = tcase_create("vmlinux");

	tcase_add_test(cmd, test_cmdline_default);
	tcase_add_test(cmd, test_cmdline_appends);
	tcase_add_test(cmd, test_cmdline_too_long);
	tcase_add_test(cmd, test_page_offset);
	suite_add_tcase(s, cmd);

	tcase_add_test(boot, test_boot_header);
	tcase_add_test(boot, test_boot_cmdline);
	tcase_add_test(boot, test_boot_setup_data);
	tcase_add_test(boot, test_boot_e820);
	tcase_add_test(boot, test_boot_passage_untouched);
	tcase_add_test(boot, test_msg_addr);
	suite_add_tcase(s, boot);

	tcase_add_test(elf, test_fake_probe);
	tcase_add_test(elf, test_small_guest_probe);
	tcase_add_test(elf, test_fake_place);
	tcase_add_test(elf, test_fake_does_not_fit);
	tcase_add_test(elf, test_fake_no_load);
	tcase_add_test(elf, test_fake_truncated);
	tcase_add_test(elf, test_fake_entry_not_exec);
	suite_add_tcase(s, elf);
	return s;
}
