# SPDX-License-Identifier: MIT
"""coop_campaign - `coop campaign`: many coop runs from one campaign file
(plans x seeds x workloads x ...), on GNU parallel or a Slurm job array,
merged into one table with rates, intervals, plots and index.html."""
