/* SPDX-License-Identifier: MIT */
/* unit.h - what every Check unit test defines: its suite (check_main.c runs it). */
#ifndef COOP_TESTS_UNIT_H
#define COOP_TESTS_UNIT_H

#include <check.h>

Suite *unit_suite(void);

#endif /* COOP_TESTS_UNIT_H */
