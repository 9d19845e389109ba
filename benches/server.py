#!/usr/bin/env python3
"""The server hook on real history, against git's own connectivity check.

Usage: server.py --repo REPO [--commits N] [--reps R] [--guard PATH]

REPO is a repository with a guard.toml in force (the clone real_range.py
--keep leaves behind: git/git's history with 7 zones). A bare clone of it
gets its main branch set N first-parent commits back and every other ref
deleted; then `guard hook pre-receive` is timed for the push that would move
main back to the tip (the objects are there, as in a real pre-receive, where
they sit in the quarantine), alternately with `git rev-list --objects NEW
--not --all`, the walk receive-pack itself runs to check connectivity.
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
from bench import env, rss, sh  # noqa: E402


def timed(args, cwd, stdin):
    t = time.perf_counter()
    r = subprocess.run(args, cwd=cwd, env=env(), input=stdin, text=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t, r.returncode


def rss_in(args, cwd, stdin):
    r = subprocess.run(["/usr/bin/time", "-f", "%M"] + args, cwd=cwd, env=env(), input=stdin, text=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        return int(r.stderr.strip().splitlines()[-1]) / 1024
    except (ValueError, IndexError):
        return float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--commits", type=int, default=10)
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--guard", default=os.path.join(HERE, "..", "target", "release", "guard"))
    a = ap.parse_args()
    guard = os.path.abspath(a.guard)
    tmp = tempfile.mkdtemp(prefix="guard-server-")
    try:
        srv = os.path.join(tmp, "srv.git")
        sh(["git", "clone", "-q", "--bare", "--shared", os.path.abspath(a.repo), srv], tmp)
        new = sh(["git", "rev-parse", "HEAD"], srv).stdout.strip()
        old = sh(["git", "rev-parse", f"HEAD~{a.commits}"], srv).stdout.strip()
        for ref in sh(["git", "for-each-ref", "--format=%(refname)"], srv).stdout.split():
            sh(["git", "update-ref", "-d", ref], srv)
        sh(["git", "update-ref", "refs/heads/main", old], srv)
        sh(["git", "symbolic-ref", "HEAD", "refs/heads/main"], srv)
        added = int(sh(["git", "rev-list", "--count", new, "--not", "--all"], srv).stdout)
        stdin = f"{old} {new} refs/heads/main\n"
        ours = [guard, "hook", "pre-receive"]
        theirs = ["git", "rev-list", "--objects", new, "--not", "--all"]
        r = subprocess.run(ours, cwd=srv, env=env(), input=stdin, text=True, capture_output=True)
        a_times, b_times = [], []
        for _ in range(a.reps):
            a_times.append(timed(ours, srv, stdin)[0])
            b_times.append(timed(theirs, srv, "")[0])
        ma, mb = statistics.median(a_times), statistics.median(b_times)
        print(f"{a.repo}: a push of {a.commits} first-parent commits ({added} commits new to the server)")
        print(f"guard exit {r.returncode}: {(r.stderr.strip().splitlines() or [''])[-1]}\n")
        print("| measure | guard | git | ratio | peak RSS guard / git |")
        print("|---|---:|---:|---:|---:|")
        print(f"| pre-receive / rev-list --objects NEW --not --all | {ma*1000:.1f} ms | {mb*1000:.1f} ms | "
              f"{ma/mb:.2f}x | {rss_in(ours, srv, stdin):.0f} / {rss(theirs, srv):.0f} MiB |")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
