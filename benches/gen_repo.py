#!/usr/bin/env python3
"""Generate a git/git-sized repository with git fast-import.

Usage: gen_repo.py DIR [--files 4800] [--commits 12000] [--hot 10] [--hot-lines 3600]

The first commit holds FILES files (HOT of them long, "hot" files) and a
guard.toml with one 150-line zone in each hot file. Each later commit edits one
or two files: a hot file in about one commit out of four (git/git's ten
most-edited files see about that share), a cold one otherwise. Edits replace,
insert or delete a line below the zones, so zones stay valid. Every 50th commit
is a merge of a short side branch. Deterministic (seeded).
"""
import argparse
import random
import subprocess
import sys
import os

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--files", type=int, default=4800)
    ap.add_argument("--commits", type=int, default=12000)
    ap.add_argument("--hot", type=int, default=10)
    ap.add_argument("--hot-lines", type=int, default=3600)
    a = ap.parse_args()
    rnd = random.Random(42)
    os.makedirs(a.dir, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    subprocess.run(["git", "init", "-q", "-b", "main", a.dir], check=True, env=env)
    fi = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=a.dir, stdin=subprocess.PIPE, env=env)
    out = fi.stdin

    def w(s):
        out.write(s if isinstance(s, bytes) else s.encode())

    def data(b):
        w(f"data {len(b)}\n")
        w(b)
        w("\n")

    hot = [f"src/hot{i}.c" for i in range(a.hot)]
    cold = [f"dir{i % 60}/sub{i % 7}/file{i}.c" for i in range(a.files - a.hot)]
    contents = {}
    for p in hot:
        contents[p] = [f"/* {p} line {j} */ int v{j} = {j};" for j in range(a.hot_lines)]
    for p in cold:
        contents[p] = [f"/* {p} line {j} */" for j in range(rnd.randint(20, 400))]
    manifest = ["version = 1", "", "[[instance]]", 'id = "alpha"', 'emails = ["alpha@bench.example"]',
                "", "[[instance]]", 'id = "beta"', 'emails = ["beta@bench.example"]']
    for i, p in enumerate(hot):
        manifest += ["", "[[zone]]", f'id = "hot{i}"', f'path = "{p}"', 'lines = "100-249"']
    t = 1_600_000_000
    mark = 0

    def commit(ref, paths, msg, parent=None, merge=None):
        nonlocal t, mark
        t += 60
        mark += 1
        w(f"commit {ref}\nmark :{mark}\n")
        w(f"author Bench <bench@bench.example> {t} +0000\ncommitter Bench <bench@bench.example> {t} +0000\n")
        data(msg.encode())
        if parent:
            w(f"from {parent}\n")
        if merge:
            w(f"merge {merge}\n")
        for p in paths:
            if p == "guard.toml":
                body = ("\n".join(manifest) + "\n").encode()
            else:
                body = ("\n".join(contents[p]) + "\n").encode()
            w(f"M 100644 inline {p}\n")
            data(body)
        return mark

    main_tip = commit("refs/heads/main", list(contents) + ["guard.toml"], "initial import\n")
    side_tip, side_paths = None, []
    for n in range(1, a.commits):
        ref = "refs/heads/main"
        if n % 50 == 25:
            ref = "refs/heads/side"
        paths = []
        for _ in range(rnd.choice([1, 1, 2])):
            p = rnd.choice(hot) if rnd.random() < 0.25 else rnd.choice(cold)
            lines = contents[p]
            lo = 300 if p in hot else 0
            at = rnd.randrange(lo, max(lo + 1, len(lines)))
            op = rnd.random()
            if op < 0.6 or len(lines) < lo + 10:
                lines.insert(at, f"/* edit {n} */")
            elif op < 0.8:
                lines[min(at, len(lines) - 1)] = f"/* changed {n} */"
            else:
                del lines[min(at, len(lines) - 1)]
            paths.append(p)
        if ref == "refs/heads/side":
            side_tip = commit(ref, paths, f"side change {n}\n", parent=f":{main_tip}")
            side_paths = paths
        elif side_tip and n % 50 == 30:
            main_tip = commit(ref, sorted(set(paths + side_paths)), f"merge side {n}\n", merge=f":{side_tip}")
            side_tip = None
        else:
            main_tip = commit(ref, paths, f"change {n}\n\nSigned-off-by: Alpha <alpha@bench.example>\nSigned-off-by: Beta <beta@bench.example>\n")
    out.close()
    if fi.wait() != 0:
        sys.exit("fast-import failed")
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=a.dir, check=True, env=env)
    subprocess.run(["git", "gc", "-q"], cwd=a.dir, check=True, env=env)

if __name__ == "__main__":
    main()
