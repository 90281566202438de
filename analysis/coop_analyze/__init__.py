# SPDX-License-Identifier: MIT
"""coop_analyze - plots, timelines, a Perfetto export and an HTML report from
`coop run --trace` traces (python3 -m coop_analyze), and the plots of
`coop bench --plots` (python3 -m coop_analyze.benchplots)."""
