"""Summarises `make coverage`: csrc/'s line and branch totals, the lines no
test ran, and every argument check's line.

Reads gcovr's JSON report. A header's line is compiled once per translation
unit and template instantiation (three CPU capabilities, eight activations),
and gcovr lists each copy; here a line counts as run when any copy ran, and a
branch as taken when it was taken in any copy of its line, which is what
"tested" means for source code. gcovr's own per-copy totals are printed by
`make coverage` just before this.

Which of a TORCH_CHECK's branches is its failure path is not in gcov's data;
tests/test_checks.py proves each check fails (the raise location of every case
is the check's own line). This lists each check's line with its run count, and
exits 1 if one was never run at all.
"""
import argparse
import collections
import json
import os
import re
import sys


def ranges(numbers):
    """[3, 4, 5, 9] -> '3-5, 9'."""
    out, start = [], None
    for i, n in enumerate(numbers):
        if start is None:
            start = n
        if i + 1 == len(numbers) or numbers[i + 1] != n + 1:
            out.append(f"{start}-{n}" if n != start else f"{n}")
            start = None
    return ", ".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("report", help="gcovr --json output")
    parser.add_argument("--sources", required=True, help="the source tree the coverage build used")
    args = parser.parse_args()
    report = json.load(open(args.report))
    line_runs = collections.defaultdict(int)  # (file, line) -> most runs of any copy
    branch_hits = collections.defaultdict(lambda: collections.defaultdict(int))  # (file, line) -> index -> hits
    for f in report["files"]:
        for line in f["lines"]:
            if line.get("gcovr/noncode"):
                continue
            key = (f["file"], line["line_number"])
            line_runs[key] = max(line_runs[key], line["count"])
            for i, b in enumerate(line.get("branches", [])):
                branch_hits[key][i] = max(branch_hits[key][i], b["count"])
    run = sum(c > 0 for c in line_runs.values())
    branches = [hit for per_line in branch_hits.values() for hit in per_line.values()]
    print(f"csrc/ source lines run: {run}/{len(line_runs)} ({100 * run / max(len(line_runs), 1):.1f}%), "
          f"branches taken: {sum(h > 0 for h in branches)}/{len(branches)} "
          f"({100 * sum(h > 0 for h in branches) / max(len(branches), 1):.1f}%)")

    unrun = collections.defaultdict(list)
    for (file, line), count in sorted(line_runs.items()):
        if count == 0:
            unrun[file].append(line)
    print("lines no test ran:" if unrun else "lines no test ran: none")
    for file, lines in sorted(unrun.items()):
        print(f"  {file}: {ranges(lines)}")

    never_run = 0
    print("argument checks (line: runs):")
    for (file, line), count in sorted(line_runs.items()):
        source = open(os.path.join(args.sources, file)).read().splitlines()
        if re.search(r"TORCH_(CHECK|INTERNAL_ASSERT)\(", source[line - 1]):
            never_run += count == 0
            print(f"  {file}:{line}: {count}{'   NEVER RUN' if count == 0 else ''}")
    return 1 if never_run else 0


if __name__ == "__main__":
    sys.exit(main())
