#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""docs.py - the README and docs/ speak to users, from inside the repository.

Every relative link and image in README.md and docs/*.md names a file of
the repository (and, with #anchor, a heading of that file, by GitHub's
rule for anchors); no link or path leaves the repository for a sibling directory;
no tracker numbers ("issue 7"); and README.md stays a front page (at most
200 lines).

Usage: docs.py SOURCE_DIR   (ctest passes it)
"""
import glob
import os
import re
import sys

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def anchors(path):
    """GitHub's anchors of a markdown file's headings (outside code blocks)."""
    out, fence = set(), False
    for line in open(path, encoding="utf-8"):
        if line.startswith("```"):
            fence = not fence
        m = None if fence else re.match(r"^#+\s+(.*)$", line.rstrip("\n"))
        if m:
            slug = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
            out.add(slug)
    return out


def main():
    src = os.path.abspath(sys.argv[1])
    pages = [os.path.join(src, "README.md")] + sorted(glob.glob(os.path.join(src, "docs", "*.md")))
    bad, links = [], 0
    for page in pages:
        rel = os.path.relpath(page, src)
        text = open(page, encoding="utf-8").read()
        fence = False
        for n, line in enumerate(text.split("\n"), 1):
            if line.startswith("```"):
                fence = not fence
            if re.search(r"\bissues? #?\d+\b|issue-\d+", line, re.I):
                bad.append(f"{rel}:{n}: a tracker number: {line.strip()[:80]}")
            if "../shared" in line:
                bad.append(f"{rel}:{n}: points outside the repository: {line.strip()[:80]}")
            if fence:
                continue
            for target in LINK.findall(line):
                if re.match(r"^[a-z]+:", target):
                    continue  # http:, https:, mailto:
                links += 1
                path, _, anchor = target.partition("#")
                dest = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
                if not dest.startswith(src + os.sep):
                    bad.append(f"{rel}:{n}: {target} leaves the repository")
                elif not os.path.exists(dest):
                    bad.append(f"{rel}:{n}: {target}: no such file")
                elif anchor and dest.endswith(".md") and anchor not in anchors(dest):
                    bad.append(f"{rel}:{n}: {target}: no heading with that anchor")
    lines = open(pages[0], encoding="utf-8").read().count("\n")
    if lines > 200:
        bad.append(f"README.md: {lines} lines; a front page has at most 200 (the manual is docs/)")
    for b in bad:
        print("FAIL:", b)
    if not bad:
        print(f"ok   {len(pages)} pages, {links} links inside the repository, all resolve; "
              f"README.md {lines} lines")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
