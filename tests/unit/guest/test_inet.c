/* SPDX-License-Identifier: MIT */
/*
 * test_inet.c - the guest network stack's pure pieces (guest/net/inet.c):
 * the Internet checksum against known headers, address and CIDR parsing,
 * formatting, big-endian loads and stores.
 * Run: ctest --test-dir build -R inet --output-on-failure
 */
#include <check.h>

#include "unit.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

/* inet.c formats with ksnprintf; the host's vsnprintf does the same job here. */
int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/* A real IPv4 header (RFC 1071 examples use it too): checksum 0xb861. */
static const uint8_t ip_hdr_sample[20] = {
	0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
	0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
};

START_TEST(test_checksum)
{
	uint8_t h[20];

	/* over a header with its checksum in place: folds to 0 */
	ck_assert_uint_eq(inet_fold(inet_sum(0, ip_hdr_sample, sizeof(ip_hdr_sample))), 0);
	/* with the field zeroed: the checksum itself */
	memcpy(h, ip_hdr_sample, sizeof(h));
	h[10] = h[11] = 0;
	ck_assert_uint_eq(inet_fold(inet_sum(0, h, sizeof(h))), 0xb861);
	/* pieces of even length add up to the whole */
	ck_assert_uint_eq(inet_fold(inet_sum(inet_sum(0, h, 8), h + 8, 12)), 0xb861);
	/* an odd last byte is padded with zero */
	ck_assert_uint_eq(inet_fold(inet_sum(0, "\x01", 1)), (uint16_t)~0x0100);
	ck_assert_uint_eq(inet_fold(inet_sum(0, "", 0)), 0xffff);
	/* carries wrap around (0xffff + 0x0001 = 0x0001 after the end-around carry) */
	ck_assert_uint_eq(inet_fold(inet_sum(0, "\xff\xff\x00\x01", 4)), (uint16_t)~0x0001);
}
END_TEST

START_TEST(test_checksum_long)
{
	static uint8_t buf[70000];
	uint32_t ref = 0;
	size_t i;

	/* more than 65536 words of 0xffff: the 32-bit running sum must not overflow */
	memset(buf, 0xff, sizeof(buf));
	ck_assert_uint_eq(inet_fold(inet_sum(0, buf, sizeof(buf))), 0);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7);
	for (i = 0; i < sizeof(buf); i += 2)
		ref = (ref + (uint32_t)(buf[i] << 8 | buf[i + 1]));
	while (ref >> 16)
		ref = (ref & 0xffff) + (ref >> 16);
	ck_assert_uint_eq(inet_fold(inet_sum(0, buf, sizeof(buf))), (uint16_t)~ref);
}
END_TEST

START_TEST(test_parse)
{
	static const char *const bad[] = { "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ",
					   "a.b.c.d", "1..2.3", "1.2.3.0004", "-1.2.3.4",
					   "1.2.3.4/24", NULL };
	uint32_t ip = 0;
	unsigned int prefix = 0;

	ck_assert_int_eq(inet_parse("10.213.0.2", &ip), 0);
	ck_assert_uint_eq(ip, 0x0ad50002);
	ck_assert_int_eq(inet_parse("0.0.0.0", &ip), 0);
	ck_assert_uint_eq(ip, 0);
	ck_assert_int_eq(inet_parse("255.255.255.255", &ip), 0);
	ck_assert_uint_eq(ip, 0xffffffff);
	ip = 42;
	for (int i = 0; bad[i]; i++)
		ck_assert_msg(inet_parse(bad[i], &ip) == -EINVAL, "'%s' parsed", bad[i]);
	ck_assert_uint_eq(ip, 42); /* untouched on error */
	ck_assert_int_eq(inet_parse(NULL, &ip), -EINVAL);

	ck_assert_int_eq(inet_parse_cidr("10.213.0.2/24", &ip, &prefix), 0);
	ck_assert_uint_eq(ip, 0x0ad50002);
	ck_assert_uint_eq(prefix, 24);
	ck_assert_int_eq(inet_parse_cidr("192.168.1.1", &ip, &prefix), 0);
	ck_assert_uint_eq(prefix, 32);
	ck_assert_int_eq(inet_parse_cidr("1.2.3.4/0", &ip, &prefix), 0);
	ck_assert_uint_eq(prefix, 0);
	ck_assert_int_eq(inet_parse_cidr("1.2.3.4/33", &ip, &prefix), -EINVAL);
	ck_assert_int_eq(inet_parse_cidr("1.2.3.4/", &ip, &prefix), -EINVAL);
	ck_assert_int_eq(inet_parse_cidr("1.2.3.4/24x", &ip, &prefix), -EINVAL);
}
END_TEST

START_TEST(test_mask_and_format)
{
	char buf[24];
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xab, 0x0c, 0x01 };

	ck_assert_uint_eq(inet_mask(0), 0);
	ck_assert_uint_eq(inet_mask(8), 0xff000000);
	ck_assert_uint_eq(inet_mask(24), 0xffffff00);
	ck_assert_uint_eq(inet_mask(32), 0xffffffff);
	inet_format(0x0ad50002, buf, sizeof(buf));
	ck_assert_str_eq(buf, "10.213.0.2");
	inet_format(0xffffffff, buf, sizeof(buf));
	ck_assert_str_eq(buf, "255.255.255.255");
	mac_format(mac, buf, sizeof(buf));
	ck_assert_str_eq(buf, "52:54:00:ab:0c:01");
}
END_TEST

START_TEST(test_byte_order)
{
	uint8_t b[4];

	put_be16(b, 0x0800);
	ck_assert(b[0] == 0x08 && b[1] == 0x00);
	ck_assert_uint_eq(get_be16(b), 0x0800);
	put_be32(b, 0x0ad50002);
	ck_assert(b[0] == 10 && b[1] == 213 && b[2] == 0 && b[3] == 2);
	ck_assert_uint_eq(get_be32(b), 0x0ad50002);
	ck_assert_uint_eq(net_htons(0x1234), 0x3412);
	ck_assert_uint_eq(net_ntohl(net_htonl(0xdeadbeef)), 0xdeadbeef);
	ck_assert_uint_eq(net_htonl(0x0ad50002), 0x0200d50a);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("inet");
	TCase *tc = tcase_create("inet");

	tcase_add_test(tc, test_checksum);
	tcase_add_test(tc, test_checksum_long);
	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_mask_and_format);
	tcase_add_test(tc, test_byte_order);
	suite_add_tcase(s, tc);
	return s;
}
