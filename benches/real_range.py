#!/usr/bin/env python3
"""`guard check BASE..HEAD` over real history, merges included, against git.

Usage: real_range.py --repo SRC [--commits N] [--zones K] [--reps R] [--guard PATH ...]

SRC is a real repository (git/git: `fetch` it). In a shared clone, the last
N commits (about; merges and old topic forks included) are rewritten with
`git fast-export --no-data | git fast-import` so that every one of them carries
one guard.toml with a 150-line zone in each of the K most-edited long files;
BASE gets the same manifest, so it is in force throughout. Side branches forked
before BASE stay as they are: what they bring is judged by the merge rule, as
it would be in a repository that adopted guard at BASE.

guard is measured against `git log -p --cc -U0 BASE..HEAD -- <zoned files>` (both
judge merges), alternately, in the same run. Several --guard binaries (a
before and an after) are measured in the same run too.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench import env, hot_files, rss, sh  # noqa: E402


def pick_base(repo, commits):
    """The first-parent ancestor of HEAD with about `commits` commits after it."""
    lo, hi = 1, commits
    while lo < hi:
        mid = (lo + hi) // 2
        n = int(sh(["git", "rev-list", "--count", f"HEAD~{mid}..HEAD"], repo).stdout)
        if n < commits:
            lo = mid + 1
        else:
            hi = mid
    return sh(["git", "rev-parse", f"HEAD~{lo}"], repo).stdout.strip()


def manifest(paths):
    body = ["version = 1", "", "[[instance]]", 'id = "alpha"', 'emails = ["alpha@bench.example"]',
            "", "[[instance]]", 'id = "beta"', 'emails = ["beta@bench.example"]']
    for i, p in enumerate(paths):
        body += ["", "[[zone]]", f'id = "z{i}"', f'path = "{p}"', 'lines = "20-169"']
    return "\n".join(body) + "\n"


def rewrite(repo, base, text):
    """Every commit of base..HEAD (and base itself) with guard.toml = text."""
    data = text.encode()
    blob = subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=repo, env=env(), input=data,
                          capture_output=True, check=True).stdout.decode().strip()
    tree = subprocess.run(["git", "mktree"], cwd=repo, env=env(), capture_output=True, check=True,
                          input=(sh(["git", "ls-tree", base], repo).stdout
                                 + f"100644 blob {blob}\tguard.toml\n").encode()).stdout.decode().strip()
    new_base = sh(["git", "commit-tree", tree, "-p", base, "-m", "adopt guard"], repo).stdout.strip()
    branch = sh(["git", "symbolic-ref", "HEAD"], repo).stdout.strip()
    export = subprocess.Popen(["git", "fast-export", "--no-data", "--reference-excluded-parents",
                               "--signed-tags=strip", f"{base}..{branch}"],
                              cwd=repo, env=env(), stdout=subprocess.PIPE)
    out = bytearray()
    src = export.stdout
    add = b"M 100644 inline guard.toml\ndata %d\n%s\n" % (len(data), data)
    in_commit = False
    while True:
        line = src.readline()
        if not line:
            break
        if line.startswith(b"data "):
            n = int(line[5:])
            out += line + src.read(n)
            continue
        if in_commit and (line == b"\n" or line.startswith(b"commit ") or line.startswith(b"reset ")):
            out += add
            in_commit = False
        if line.startswith(b"commit "):
            in_commit = True
        if line.startswith((b"from ", b"merge ")) and line.split()[1].decode() == base:
            line = line.split()[0] + b" " + new_base.encode() + b"\n"
        out += line
    if in_commit:
        out += add
    if export.wait() != 0:
        sys.exit("git fast-export failed")
    subprocess.run(["git", "fast-import", "--quiet", "--force"], cwd=repo, env=env(), input=bytes(out),
                   check=True)
    sh(["git", "reset", "-q", "--hard"], repo)
    return new_base


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--commits", type=int, default=10000)
    ap.add_argument("--zones", type=int, default=7)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--guard", action="append")
    ap.add_argument("--keep", action="store_true", help="keep the rewritten clone (its path is printed)")
    a = ap.parse_args()
    guards = [os.path.abspath(g) for g in (a.guard or [os.path.join(HERE, "..", "target", "release", "guard")])]
    tmp = tempfile.mkdtemp(prefix="guard-range-")
    try:
        repo = os.path.join(tmp, "repo")
        sh(["git", "clone", "-q", "--shared", os.path.abspath(a.repo), repo], tmp)
        base = pick_base(repo, a.commits)
        def lines_at(path):
            r = sh(["git", "cat-file", "-p", f"{base}:{path}"], repo, check=False)
            return r.stdout.count("\n") if r.returncode == 0 else 0
        hot = [h for h in hot_files(repo, n=3 * a.zones) if lines_at(h) >= 400][:a.zones]
        new_base = rewrite(repo, base, manifest(hot))
        count = int(sh(["git", "rev-list", "--count", f"{new_base}..HEAD"], repo).stdout)
        merges = int(sh(["git", "rev-list", "--merges", "--count", f"{new_base}..HEAD"], repo).stdout)
        print(f"{a.repo}: {count} commits ({merges} merges) after {base[:10]}, "
              f"guard.toml in force throughout with {len(hot)} zones in: {', '.join(hot)}\n")
        git = ["git", "log", "-p", "--cc", "-U0", f"{new_base}..HEAD", "--"] + hot
        runs = {g: [] for g in guards}
        theirs = []
        codes = {}
        for _ in range(a.reps):
            for g in guards:
                t = time.perf_counter()
                r = subprocess.run([g, "check", f"{new_base}..HEAD", "--format", "json"], cwd=repo, env=env(),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                runs[g].append(time.perf_counter() - t)
                codes[g] = r.returncode
            t = time.perf_counter()
            subprocess.run(git, cwd=repo, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            theirs.append(time.perf_counter() - t)
        mt = statistics.median(theirs)
        print("| guard | exit | guard | git log -p --cc -U0 | ratio | peak RSS guard / git |")
        print("|---|---:|---:|---:|---:|---:|")
        git_rss = rss(git, repo)
        for g in guards:
            mg = statistics.median(runs[g])
            print(f"| {g} | {codes[g]} | {mg:.2f} s | {mt:.2f} s | {mg / mt:.2f}x | "
                  f"{rss([g, 'check', f'{new_base}..HEAD', '--format', 'json'], repo):.0f} / {git_rss:.0f} MiB |")
        if len(guards) > 1:
            print("\nverdicts per binary (blocked / failed commits):")
            for g in guards:
                r = subprocess.run([g, "check", f"{new_base}..HEAD"], cwd=repo, env=env(),
                                   capture_output=True, text=True)
                print(f"  {g}: {r.stdout.strip().splitlines()[-1] if r.stdout.strip() else r.stderr[-300:]}")
    finally:
        if a.keep:
            print(f"kept: {tmp}/repo")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
