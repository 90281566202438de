/* SPDX-License-Identifier: MIT */
/*
 * check_main.c - the one main() of every Check unit test (coop_unit_test
 * links it in): it runs the suite its test file defines as unit_suite()
 * and exits 0 only when every test passed.
 */
#include <stdlib.h>

#include "unit.h"

int main(void)
{
	SRunner *sr = srunner_create(unit_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
