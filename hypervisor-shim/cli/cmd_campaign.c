/* SPDX-License-Identifier: MIT */
/*
 * cmd_campaign.c - `coop campaign run FILE -o DIR`, `status DIR`, `collect
 * DIR`: many runs of coop from one campaign file, merged into one table.
 * Execs /usr/bin/python3 -m coop_campaign (analysis/coop_campaign, copied
 * beside coop with coop_analyze), which runs this coop; docs/campaign.md.
 */
#include "cli/cli.h"

int coop_cmd_campaign(int argc, char **argv)
{
	return cli_exec_python("campaign", "coop_campaign", argc, argv);
}
