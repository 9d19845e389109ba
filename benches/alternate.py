#!/usr/bin/env python3
"""Alternate several commands in one directory and print each one's median
and its ratio to the last command's median (put git last).

Usage: alternate.py DIR REPS 'guard|check' 'git|diff|--cached|-U0|--|FILE'

Arguments of a command are separated by '|'. Runs are interleaved (one of
each per round), so drift on a noisy machine affects all commands alike.
"""
import statistics
import subprocess
import sys
import time


def main():
    cwd, reps = sys.argv[1], int(sys.argv[2])
    cmds = [c.split("|") for c in sys.argv[3:]]
    times = [[] for _ in cmds]
    for _ in range(reps):
        for i, c in enumerate(cmds):
            t = time.perf_counter()
            subprocess.run(c, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times[i].append(time.perf_counter() - t)
    base = statistics.median(times[-1])
    for c, t in zip(cmds, times):
        m = statistics.median(t)
        print(f"{m * 1000:8.2f} ms  {m / base:5.2f}x  {' '.join(c)}")


if __name__ == "__main__":
    main()
