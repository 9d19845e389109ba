#!/usr/bin/env python3
"""The pre-commit hook with 1,000 zones against the same hook with 10.

Usage: many_zones.py --repo REPO [--reps R] [--guard PATH ...]

In a shared clone of REPO (git/git: `fetch` it), the 10 most-edited long
files get 100 zones each (guard-1000.toml) or one each (guard-10.toml); a
one-line change in the first is staged, and `guard hook pre-commit
--manifest M` is timed with each manifest, alternately, several binaries in
the same run, alternating within each round. The figure is the ratio 1,000
zones / 10 zones.
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench import hot_files, sh, timed  # noqa: E402


def manifest(files, per_file):
    out = ["version = 1", "", "[policy]", "signoffs = 1", ""]
    for i, f in enumerate(files):
        for k in range(per_file):
            start = 1 + k * 3
            out += ["[[zone]]", f'id = "z{i}-{k}"', f'path = "{f}"', f'lines = "{start}-{start + 1}"', ""]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--reps", type=int, default=11)
    ap.add_argument("--guard", action="append")
    a = ap.parse_args()
    guards = [os.path.abspath(g) for g in (a.guard or [os.path.join(HERE, "..", "target", "release", "guard")])]
    tmp = tempfile.mkdtemp(prefix="guard-zones-")
    try:
        repo = os.path.join(tmp, "repo")
        sh(["git", "clone", "-q", "--shared", os.path.abspath(a.repo), repo], tmp)
        hot = hot_files(repo)[:10]
        for name, per in (("guard-1000.toml", 100), ("guard-10.toml", 1)):
            with open(os.path.join(repo, name), "w") as f:
                f.write(manifest(hot, per))
        sh(["git", "add", "guard-1000.toml", "guard-10.toml"], repo)
        sh(["git", "commit", "-q", "--no-verify", "-m", "manifests"], repo)
        p = os.path.join(repo, hot[0])
        with open(p, "rb") as f:
            lines = f.read().split(b"\n")
        lines[400] += b" /* bench */"
        with open(p, "wb") as f:
            f.write(b"\n".join(lines))
        sh(["git", "add", hot[0]], repo)
        print(f"{a.repo}: 1,000 zones (100 in each of {len(hot)} files) vs 10; one staged line in {hot[0]}\n")
        print("| guard | 1,000 zones | 10 zones | ratio |")
        print("|---|---:|---:|---:|")
        # The binaries alternate within each round, so that the machine's
        # drift falls on all of them alike.
        many = {g: [] for g in guards}
        few = {g: [] for g in guards}
        for _ in range(a.reps):
            for g in guards:
                many[g].append(timed([g, "hook", "pre-commit", "--manifest", "guard-1000.toml"], repo)[0])
                few[g].append(timed([g, "hook", "pre-commit", "--manifest", "guard-10.toml"], repo)[0])
        for g in guards:
            mm, mf = statistics.median(many[g]), statistics.median(few[g])
            print(f"| {g} | {mm*1000:.1f} ms | {mf*1000:.1f} ms | {mm/mf:.2f}x |")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
