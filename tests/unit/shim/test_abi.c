/* SPDX-License-Identifier: MIT */
/*
 * test_abi.c - the ABI header's layout: the sizes and offsets both sides
 * and the assembly rely on, the generated asm-offsets against offsetof,
 * message sizing, and the host's CRC32C against the standard vectors.
 * Run: build/tests/test_abi (part of `make test`).
 */
#include <check.h>

#include "unit.h"
#include <stdlib.h>
#include <string.h>

#include <coop/abi.h>
#include <coop/asm-offsets.h>

#include "core/shim.h"

START_TEST(test_passage_layout)
{
	ck_assert_uint_eq(sizeof(struct coop_passage), COOP_PASSAGE_SIZE);
	ck_assert_uint_eq(offsetof(struct coop_passage, boot), COOP_PASSAGE_OFF_BOOT);
	ck_assert_uint_eq(offsetof(struct coop_passage, op), COOP_PASSAGE_OFF_OP);
	ck_assert_uint_eq(offsetof(struct coop_passage, virq), COOP_PASSAGE_OFF_VIRQ);
	ck_assert_uint_eq(offsetof(struct coop_passage, to_host), COOP_PASSAGE_OFF_TO_HOST);
	ck_assert_uint_eq(offsetof(struct coop_passage, to_guest), COOP_PASSAGE_OFF_TO_GUEST);
	ck_assert_uint_eq(COOP_PASSAGE_OFF_TO_GUEST + COOP_MSG_WINDOW_SIZE, COOP_PASSAGE_SIZE);
	/* xsave and xrstor fault on an area that is not 64-byte aligned. */
	ck_assert_uint_eq(offsetof(struct coop_passage, host.xsave) % 64, 0);
	ck_assert_uint_eq(offsetof(struct coop_passage, guest.xsave) % 64, 0);
	ck_assert_uint_eq(_Alignof(struct coop_cpu_context), 64);
	/* The passage and the kernel live in guest RAM in that order, page-aligned. */
	ck_assert_uint_eq(COOP_GUEST_BASE % COOP_PAGE_SIZE, 0);
	ck_assert_uint_eq(COOP_KERNEL_BASE, COOP_GUEST_BASE + COOP_KERNEL_OFFSET);
	ck_assert_uint_le(COOP_PASSAGE_SIZE, COOP_KERNEL_OFFSET);
	ck_assert_uint_le(COOP_MEM_MIN, COOP_MEM_MAX);
}
END_TEST

START_TEST(test_asm_offsets_match_the_structs)
{
	ck_assert_uint_eq(CTX_RSP, offsetof(struct coop_cpu_context, rsp));
	ck_assert_uint_eq(CTX_RBX, offsetof(struct coop_cpu_context, rbx));
	ck_assert_uint_eq(CTX_RBP, offsetof(struct coop_cpu_context, rbp));
	ck_assert_uint_eq(CTX_R12, offsetof(struct coop_cpu_context, r12));
	ck_assert_uint_eq(CTX_R15, offsetof(struct coop_cpu_context, r15));
	ck_assert_uint_eq(CTX_RAX, offsetof(struct coop_cpu_context, rax));
	ck_assert_uint_eq(CTX_R11, offsetof(struct coop_cpu_context, r11));
	ck_assert_uint_eq(CTX_RFLAGS, offsetof(struct coop_cpu_context, rflags));
	ck_assert_uint_eq(CTX_FS_BASE, offsetof(struct coop_cpu_context, fs_base));
	ck_assert_uint_eq(CTX_GS_BASE, offsetof(struct coop_cpu_context, gs_base));
	ck_assert_uint_eq(CTX_MXCSR, offsetof(struct coop_cpu_context, mxcsr));
	ck_assert_uint_eq(CTX_FPU_CW, offsetof(struct coop_cpu_context, fpu_cw));
	ck_assert_uint_eq(CTX_XSAVE_MASK, offsetof(struct coop_cpu_context, xsave_mask));
	ck_assert_uint_eq(CTX_XSAVE, offsetof(struct coop_cpu_context, xsave));
	ck_assert_uint_eq(CTX_SIZE, sizeof(struct coop_cpu_context));
	ck_assert_uint_eq(PASSAGE_HOST, COOP_PASSAGE_OFF_HOST);
	ck_assert_uint_eq(PASSAGE_GUEST, COOP_PASSAGE_OFF_GUEST);
	/* The bottom frame's CFI encodes these as one-byte ULEB128s. */
	ck_assert_uint_lt(CTX_R15, 128);
}
END_TEST

START_TEST(test_fixed_width_structs)
{
	ck_assert_uint_eq(sizeof(struct coop_msg_hdr), 32);
	ck_assert_uint_eq(sizeof(struct coop_op), 528);
	ck_assert_uint_eq(sizeof(struct coop_boot_params), 1024);
	ck_assert_uint_eq(sizeof(struct coop_passage_header), 64);
	ck_assert_uint_eq(sizeof(struct coop_note_abi), 8);
	ck_assert_uint_eq(offsetof(struct coop_msg_hdr, seq), 16);
	ck_assert_uint_eq(offsetof(struct coop_msg_hdr, crc32c), 24);
	ck_assert_uint_eq(sizeof(((struct coop_boot_params *)0)->cmdline), COOP_CMDLINE_MAX);
}
END_TEST

START_TEST(test_msg_size)
{
	ck_assert_uint_eq(coop_msg_size(0), 32);
	ck_assert_uint_eq(coop_msg_size(1), 40);
	ck_assert_uint_eq(coop_msg_size(8), 40);
	ck_assert_uint_eq(coop_msg_size(9), 48);
	ck_assert_uint_le(coop_msg_size(COOP_MSG_MAX_PAYLOAD), COOP_MSG_WINDOW_SIZE - 16);
}
END_TEST

START_TEST(test_magic_spells_cooppass)
{
	uint64_t m = COOP_PASSAGE_MAGIC;

	ck_assert_mem_eq(&m, "COOPPASS", 8);
}
END_TEST

START_TEST(test_crc32c_vectors)
{
	static const uint8_t zeros[32], ones[32] = { [0 ... 31] = 0xff };
	uint8_t inc[32];

	for (int i = 0; i < 32; i++)
		inc[i] = (uint8_t)i;
	/* RFC 3720 (iSCSI) B.4 test vectors, and the classic check value. */
	ck_assert_uint_eq(shim_crc32c(0, "123456789", 9), 0xe3069283);
	ck_assert_uint_eq(shim_crc32c(0, zeros, 32), 0x8a9136aa);
	ck_assert_uint_eq(shim_crc32c(0, ones, 32), 0x62a8ab43);
	ck_assert_uint_eq(shim_crc32c(0, inc, 32), 0x46dd794e);
	/* Chaining equals one pass. */
	ck_assert_uint_eq(shim_crc32c(shim_crc32c(0, "1234", 4), "56789", 5), 0xe3069283);
}
END_TEST

START_TEST(test_msg_crc_covers_header_and_payload)
{
	struct coop_msg_hdr h = { .src = COOP_EP_GUEST, .device = COOP_DEV_COCON, .length = 5 };
	uint32_t c;

	c = shim_msg_crc(&h, "hello");
	h.crc32c = c; /* the crc field itself is not covered */
	ck_assert_uint_eq(shim_msg_crc(&h, "hello"), c);
	ck_assert_uint_ne(shim_msg_crc(&h, "hellp"), c);
	h.unit = 1;
	ck_assert_uint_ne(shim_msg_crc(&h, "hello"), c);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("abi");
	TCase *tc = tcase_create("layout");

	tcase_add_test(tc, test_passage_layout);
	tcase_add_test(tc, test_asm_offsets_match_the_structs);
	tcase_add_test(tc, test_fixed_width_structs);
	tcase_add_test(tc, test_msg_size);
	tcase_add_test(tc, test_magic_spells_cooppass);
	tcase_add_test(tc, test_crc32c_vectors);
	tcase_add_test(tc, test_msg_crc_covers_header_and_payload);
	suite_add_tcase(s, tc);
	return s;
}
