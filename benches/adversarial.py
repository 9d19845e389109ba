#!/usr/bin/env python3
"""Issue 18's adversarial inputs, built in temp repositories and timed.

Usage: adversarial.py [--guard BIN ...] [--scale S]

A branch under review can add zones and invariants without sign-offs (adding
them tightens); each row is an input such a branch can bring, with git's own
command on the same input where there is one. Prints wall time, peak RSS and
exit code per binary. `--scale 0.1` builds inputs a tenth the size (quick).
The tests in tests/bounded.rs bound the same work by counts, not times.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def env():
    e = dict(os.environ)
    for k in list(e):
        if k.startswith("GIT_") or k in ("GUARD_MANIFEST", "GUARD_BASE"):
            del e[k]
    e.update(GIT_AUTHOR_NAME="A", GIT_AUTHOR_EMAIL="a@bench.example",
             GIT_COMMITTER_NAME="A", GIT_COMMITTER_EMAIL="a@bench.example")
    return e


def sh(args, cwd, data=None):
    return subprocess.run(args, cwd=cwd, input=data, capture_output=True, env=env(), check=True).stdout


def timed(args, cwd):
    """Wall seconds, peak RSS in MiB and the exit code, from /usr/bin/time."""
    r = subprocess.run(["/usr/bin/time", "-f", "%e %M"] + args, cwd=cwd, env=env(),
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    last = r.stderr.decode(errors="replace").strip().splitlines()[-1].split()
    return float(last[0]), int(last[1]) / 1024, r.returncode


def repo(tmp, name):
    d = os.path.join(tmp, name)
    os.makedirs(d)
    sh(["git", "init", "-q"], d)
    return d


def commit(d, msg):
    sh(["git", "add", "-A"], d)
    sh(["git", "commit", "-q", "--no-verify", "-m", msg], d)


def binary_file(tmp, scale):
    d = repo(tmp, "binary")
    n = int(5_250_000 * scale)
    data = b"\0\n" + b"a\nb\n" * n
    open(os.path.join(d, "big.bin"), "wb").write(data)
    open(os.path.join(d, "guard.toml"), "w").write(
        'version = 1\n\n[[zone]]\nid = "big"\npath = "big.bin"\nlines = "1-10"\n')
    commit(d, "init")
    open(os.path.join(d, "big.bin"), "wb").write(data[:5] + b"Q\n" + data[5:])
    sh(["git", "add", "big.bin"], d)
    return d, f"a {len(data) / 1e6:.0f} MB file made binary by a NUL on line 1, one line inserted inside a zone, staged", \
        ["check"], ["git", "diff", "--cached", "--stat"]


def regex_invariant(tmp, scale):
    d = repo(tmp, "regex")
    words = ["alpha", "beta", "gamma", "delta", "x1", "y22"]
    lines, size, i = [], 0, 0
    while size < 10_000_000 * scale:
        line = " ".join(words[(i * 7 + j) % 6] for j in range(12)) + "\n"
        lines.append(line)
        size += len(line)
        i += 1
    open(os.path.join(d, "big.txt"), "w").write("".join(lines))
    open(os.path.join(d, "guard.toml"), "w").write(
        "version = 1\n\n[[invariant]]\npath = \"big.txt\"\nmust_not_contain = '[\\w\\s]{1,200}\\d{7}'\n")
    commit(d, "init")
    with open(os.path.join(d, "big.txt"), "a") as f:
        f.write("alpha beta\n")
    sh(["git", "add", "big.txt"], d)
    return d, f"an invariant `[\\w\\s]{{1,200}}\\d{{7}}` over a {size / 1e6:.0f} MB file, staged change", \
        ["check"], None


def many_zones(tmp, scale):
    d = repo(tmp, "zones")
    n = int(20_000 * scale)
    os.makedirs(os.path.join(d, "src"))
    for f in range(10):
        open(os.path.join(d, "src", f"f{f}.txt"), "w").write("".join(f"line {i}\n" for i in range(3 * n // 10 + 10)))
    m = ["version = 1"]
    for i in range(n):
        m += ["", "[[zone]]", f'id = "z{i}"', f'path = "src/f{i % 10}.txt"',
              f'lines = "{(i // 10) * 3 + 1}-{(i // 10) * 3 + 2}"']
    open(os.path.join(d, "guard.toml"), "w").write("\n".join(m) + "\n")
    commit(d, "init")
    return d, f"`guard zones --verify` with {n:,} zones in 10 files", ["zones", "--verify"], None


def many_invariants(tmp, scale):
    d = repo(tmp, "invariants")
    n = int(20_000 * scale)
    open(os.path.join(d, "f.txt"), "w").write("".join(f"line {i}\n" for i in range(10)))

    def text(changed):
        return "version = 1\n" + "".join(
            f'\n[[invariant]]\npath = "f.txt"\nmust_not_contain = "forbidden {i}{"!" if changed and i == n // 2 else ""}"\n'
            for i in range(n))
    open(os.path.join(d, "guard.toml"), "w").write(text(False))
    commit(d, "init")
    open(os.path.join(d, "guard.toml"), "w").write(text(True))
    sh(["git", "add", "guard.toml"], d)
    return d, f"a staged edit of one of {n:,} invariants", ["check"], None


def wide_directory(tmp, scale):
    d = repo(tmp, "wide")
    n = int(300_000 * scale)
    blob = sh(["git", "hash-object", "-w", "--stdin"], d, b"x\n").decode().strip()
    listing = "".join(f"100644 blob {blob}\tf{i:06d}\n" for i in range(n)).encode()
    tree = sh(["git", "mktree"], d, listing).decode().strip()
    open(os.path.join(d, "guard.toml"), "w").write('version = 1\n\n[[zone]]\nid = "d"\npath = "d/**"\n')
    sh(["git", "add", "guard.toml"], d)
    sh(["git", "read-tree", "--prefix=d/", tree], d)
    sh(["git", "commit", "-q", "--no-verify", "-m", "init"], d)
    sh(["git", "update-index", "--add", "--cacheinfo", f"100644,{blob},d/new"], d)
    return d, f"a glob zone over a directory of {n:,} entries, one file added, staged", \
        ["check"], ["git", "diff", "--cached", "--name-only"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--guard", action="append")
    ap.add_argument("--scale", type=float, default=1.0)
    a = ap.parse_args()
    guards = [os.path.abspath(g) for g in (a.guard or [os.path.join(HERE, "..", "target", "release", "guard")])]
    tmp = tempfile.mkdtemp(prefix="guard-adversarial-")
    try:
        print("| input | " + " | ".join(f"`{os.path.basename(g)}` (s, MiB, exit)" for g in guards) + " | git |")
        print("|---|" + "---:|" * (len(guards) + 1))
        for build in (binary_file, regex_invariant, many_zones, many_invariants, wide_directory):
            d, what, args, git = build(tmp, a.scale)
            cells = []
            for g in guards:
                t, rss, code = timed([g] + args, d)
                cells.append(f"{t:.2f} s, {rss:.0f}, {code}")
            gcell = "—"
            if git:
                t, rss, _ = timed(git, d)
                gcell = f"{t:.2f} s, {rss:.0f}"
            print(f"| {what} | " + " | ".join(cells) + f" | {gcell} |")
            sys.stdout.flush()
            shutil.rmtree(d)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
