#!/usr/bin/env python3
"""guard's benchmarks, as ratios against git measured alternately in the same run.

Usage: bench.py [--repo SRC] [--reps N] [--range-commits N] [--guard PATH]

SRC is a repository to measure on (default: a generated one, see gen_repo.py).
The benchmark works in a shared clone of SRC in a temp directory, never in SRC.
If SRC's HEAD has no guard.toml, one commit adding a manifest with a 150-line
zone in each of the ten most-edited long files is made in the clone.
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


def env():
    e = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GUARD_"))}
    e.update(GIT_CONFIG_NOSYSTEM="1", GIT_AUTHOR_NAME="Bench", GIT_AUTHOR_EMAIL="bench@bench.example",
             GIT_COMMITTER_NAME="Bench", GIT_COMMITTER_EMAIL="bench@bench.example", GUARD_AMEND="0")
    return e


def sh(args, cwd, check=True):
    return subprocess.run(args, cwd=cwd, env=env(), check=check, capture_output=True, text=True)


def timed(args, cwd):
    t = time.perf_counter()
    r = subprocess.run(args, cwd=cwd, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t, r.returncode


def rss(args, cwd):
    r = subprocess.run(["/usr/bin/time", "-f", "%M"] + args, cwd=cwd, env=env(),
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        return int(r.stderr.strip().splitlines()[-1]) / 1024
    except (ValueError, IndexError):
        return float("nan")


def compare(name, ours, theirs, cwd, reps, expect_codes=(0, 1)):
    a, b = [], []
    for _ in range(reps):
        ta, code = timed(ours, cwd)
        if code not in expect_codes:
            r = sh(ours, cwd, check=False)
            sys.exit(f"{name}: {' '.join(ours)} exited {code}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
        tb, _ = timed(theirs, cwd)
        a.append(ta)
        b.append(tb)
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"| {name} | {ma*1000:.1f} ms | {mb*1000:.1f} ms | {ma/mb:.2f}x | {rss(ours, cwd):.0f} / {rss(theirs, cwd):.0f} MiB |")
    sys.stdout.flush()
    return ma / mb


def hot_files(repo, n=10, min_lines=400):
    out = sh(["git", "log", "--first-parent", "-n", "5000", "--format=", "--name-only"], repo).stdout
    counts = {}
    for line in out.splitlines():
        if line:
            counts[line] = counts.get(line, 0) + 1
    picked = []
    for path, _ in sorted(counts.items(), key=lambda kv: -kv[1]):
        p = os.path.join(repo, path)
        if os.path.isfile(p) and path.endswith((".c", ".h", ".py", ".rs", ".txt")):
            with open(p, "rb") as f:
                if f.read().count(b"\n") >= min_lines:
                    picked.append(path)
        if len(picked) == n:
            break
    return picked


def manifest(paths):
    lines = ["version = 1", "", "[[instance]]", 'id = "alpha"', 'emails = ["alpha@bench.example"]']
    for i, p in enumerate(paths):
        lines += ["", "[[zone]]", f'id = "z{i}"', f'path = "{p}"', 'lines = "100-249"']
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo")
    ap.add_argument("--reps", type=int, default=21)
    ap.add_argument("--range-commits", type=int, default=10000)
    ap.add_argument("--range-reps", type=int, default=3)
    ap.add_argument("--guard", default=os.path.join(HERE, "..", "target", "release", "guard"))
    a = ap.parse_args()
    guard = os.path.abspath(a.guard)
    src = a.repo
    if not src:
        src = os.path.join(HERE, "..", "target", "bench-repo")
        if not os.path.isdir(os.path.join(src, ".git")):
            print("generating a repository (once) ...", file=sys.stderr)
            subprocess.run([sys.executable, os.path.join(HERE, "gen_repo.py"), src], check=True)
    tmp = tempfile.mkdtemp(prefix="guard-bench-")
    try:
        repo = os.path.join(tmp, "repo")
        sh(["git", "clone", "-q", "--shared", os.path.abspath(src), repo], tmp)
        commits = int(sh(["git", "rev-list", "--count", "HEAD"], repo).stdout)
        files = len(sh(["git", "ls-files"], repo).stdout.splitlines())
        has_history_manifest = sh(["git", "cat-file", "-e", "HEAD~1:guard.toml"], repo, check=False).returncode == 0
        hot = hot_files(repo)
        if not os.path.exists(os.path.join(repo, "guard.toml")):
            with open(os.path.join(repo, "guard.toml"), "w") as f:
                f.write(manifest(hot))
        with open(os.path.join(repo, "guard1.toml"), "w") as f:
            f.write(manifest(hot[:1]))
        sh(["git", "add", "guard.toml", "guard1.toml"], repo)
        sh(["git", "commit", "-q", "--no-verify", "-m", "bench manifests"], repo)
        print(f"repository: {src} ({commits} commits, {files} files); zoned files: {', '.join(hot)}\n")
        print("| measurement | guard | git | ratio | peak RSS guard / git |")
        print("|---|---:|---:|---:|---:|")
        # A staged one-line change inside a zone.
        target = hot[0]
        p = os.path.join(repo, target)
        with open(p, "rb") as f:
            original = f.read()
        lines = original.split(b"\n")
        lines[149] = lines[149] + b" /* bench */"
        with open(p, "wb") as f:
            f.write(b"\n".join(lines))
        sh(["git", "add", target], repo)
        compare("staged one-line change in a zone: `guard check` vs `git diff --cached -U0 -- FILE`",
                [guard, "check"], ["git", "diff", "--cached", "-U0", "--", target], repo, a.reps)
        compare("pre-commit hook, 1 zone: `guard hook pre-commit` vs `git diff --cached -U0 -- FILE`",
                [guard, "hook", "pre-commit", "--manifest", "guard1.toml"],
                ["git", "diff", "--cached", "-U0", "--", target], repo, a.reps)
        compare("pre-commit hook, 10 zones in 10 files, same change",
                [guard, "hook", "pre-commit"], ["git", "diff", "--cached", "-U0", "--", target], repo, a.reps)
        sh(["git", "reset", "-q", "--hard"], repo)
        # A staged change to no zoned file.
        cold = next(f for f in sh(["git", "ls-files"], repo).stdout.splitlines()
                    if f not in hot and f.endswith((".c", ".txt", ".h")))
        with open(os.path.join(repo, cold), "a") as f:
            f.write("/* bench */\n")
        sh(["git", "add", cold], repo)
        compare("staged change to no zoned file: `guard check` vs `git diff --cached --name-only`",
                [guard, "check"], ["git", "diff", "--cached", "--name-only"], repo, a.reps)
        sh(["git", "reset", "-q", "--hard"], repo)
        # What-if audit of one 150-line zone (and of ten) through the first-parent
        # history since the zoned file reached 300 lines, against git's floor
        # for the same question (which commits change the file) and git log -L.
        target = hot[0]
        log = sh(["git", "log", "--first-parent", "--reverse", "--format=%H", "--", target], repo).stdout.split()
        start = next((c for c in log[len(log) // 10:]
                      if int(sh(["sh", "-c", f"git show {c}:{target} | wc -l"], repo).stdout) >= 300), None)
        if start:
            one = os.path.join(tmp, "what-if-1.toml")
            ten = os.path.join(tmp, "what-if-10.toml")
            with open(one, "w") as f:
                f.write(manifest([target]))
            ok = [h for h in hot if sh(["sh", "-c", f"git show {start}:{h} 2>/dev/null | wc -l"], repo).stdout.strip().isdigit()
                  and int(sh(["sh", "-c", f"git show {start}:{h} 2>/dev/null | wc -l"], repo).stdout) >= 300]
            with open(ten, "w") as f:
                f.write(manifest(ok))
            n = sh(["git", "rev-list", "--first-parent", "--count", f"{start}..HEAD"], repo).stdout.strip()
            floor = ["git", "log", "--first-parent", "--format=%H", f"{start}..HEAD", "--", target]
            compare(f"what-if `guard audit` of 1 zone over {n} first-parent commits vs `git log --first-parent --format=%H -- FILE`",
                    [guard, "audit", f"{start}..HEAD", "--manifest", one], floor, repo, a.range_reps)
            compare(f"the same with {len(ok)} zones in {len(ok)} files, vs the same git floor",
                    [guard, "audit", f"{start}..HEAD", "--manifest", ten], floor, repo, a.range_reps)
            compare("what-if `guard audit`, 1 zone, vs `git log --first-parent -L 100,249:FILE`",
                    [guard, "audit", f"{start}..HEAD", "--manifest", one],
                    ["git", "log", "--first-parent", "-L", f"100,249:{target}", "-s", "--format=%H", f"{start}..HEAD"],
                    repo, a.range_reps)
        # The scenario: one 150-line zone over the whole first-parent
        # history of a file since it was created (`--zone`, from a manifest of
        # ten zones in that file), without and then with a commit-graph with
        # changed-path filters (git's floor uses it too).
        whole = None
        for h in hot:
            log = sh(["git", "log", "--first-parent", "--reverse", "--format=%H", "--", h], repo).stdout.split()
            if log and int(sh(["sh", "-c", f"git show {log[0]}:{h} | wc -l"], repo).stdout) >= 170:
                if whole is None or len(log) > whole[2]:
                    whole = (h, log[0], len(log))
        if whole:
            target, created, _ = whole
            ten = os.path.join(tmp, "whole-10.toml")
            body = ["version = 1", "", "[[instance]]", 'id = "alpha"', 'emails = ["alpha@bench.example"]',
                    "", "[[zone]]", 'id = "z"', f'path = "{target}"', 'lines = "20-169"']
            for i in range(9):
                body += ["", "[[zone]]", f'id = "s{i}"', f'path = "{target}"', f'lines = "{10 + 17 * i}-{24 + 17 * i}"']
            with open(ten, "w") as f:
                f.write("\n".join(body) + "\n")
            n = sh(["git", "rev-list", "--first-parent", "--count", f"{created}..HEAD"], repo).stdout.strip()
            one_zone = [guard, "audit", f"{created}..HEAD", "--manifest", ten, "--zone", "z"]
            all_zones = [guard, "audit", f"{created}..HEAD", "--manifest", ten]
            floor = ["git", "log", "--first-parent", "--format=%H", f"{created}..HEAD", "--", target]
            dash_l = ["git", "log", "--first-parent", "-L", f"20,169:{target}", "-s", "--format=%H", f"{created}..HEAD"]
            graph = os.path.join(tmp, "graph")
            sh(["git", "clone", "-q", "--shared", os.path.abspath(src), graph], tmp)
            sh(["git", "commit-graph", "write", "--reachable", "--changed-paths"], graph)
            for where, label in ((repo, "no commit-graph"), (graph, "commit-graph with changed paths")):
                compare(f"what-if `guard audit --zone` of one 150-line zone over {target}'s whole history ({n} first-parent commits, {label}) vs `git log --first-parent --format=%H -- FILE`",
                        one_zone, floor, where, a.range_reps)
                compare(f"the same vs `git log --first-parent -L 20,169:FILE` ({label})", one_zone, dash_l, where, a.range_reps)
                compare(f"all 10 zones of that file vs `--zone` ({label})", all_zones, one_zone, where, a.range_reps)
        if has_history_manifest and commits > a.range_commits + 1:
            base = sh(["git", "rev-parse", f"HEAD~{a.range_commits}"], repo).stdout.strip()
            # guard.toml of the generated history names its zoned files.
            zoned = [l.split('"')[1] for l in sh(["git", "show", f"{base}:guard.toml"], repo).stdout.splitlines()
                     if l.startswith("path")]
            compare(f"`guard check BASE..HEAD` over the last {a.range_commits} commits vs `git log -p -U0 BASE..HEAD -- <zoned files>`",
                    [guard, "check", f"{base}..HEAD"], ["git", "log", "-p", "-U0", f"{base}..HEAD", "--"] + zoned,
                    repo, a.range_reps)
        else:
            print("\n(range benchmark skipped: the history has no guard.toml; use the generated repository)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
