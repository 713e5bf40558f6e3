#!/usr/bin/python3
"""Splits a `perf record --call-graph dwarf` profile of bschub (sampled CPU time, kernel
included) into the cost classes of docs/handshake-profile.md (bench/profile_classes.py).
Each sample's whole stack is known, so unlike callgrind_split.py no attribution is guessed.

    perf script -i perf.data -F comm,tid,period,ip,sym,dso > stacks.txt
    bench/perf_split.py stacks.txt [--per N] [--json OUT]

--per N divides by N (connections): microseconds per connection, from the sample periods
(cpu-clock periods are nanoseconds)."""
import argparse
import collections
import json
import re
import sys

import profile_classes as pc

_FRAME = re.compile(r"^\s+[0-9a-f]+ (.*?) \((.*)\)$")


def samples(path):
    """Yields (period_ns, frames leaf first as (name, obj))."""
    period, frames = None, []
    with open(path, errors="replace") as f:
        for line in f:
            if not line.strip():
                if period is not None:
                    yield period, frames
                period, frames = None, []
                continue
            if not line[0].isspace():
                parts = line.split()
                period = int(parts[-1]) if parts and parts[-1].isdigit() else 1
                frames = []
                continue
            m = _FRAME.match(line.rstrip("\n"))
            if m:
                name, obj = m.group(1), m.group(2)
                name = re.sub(r"\+0x[0-9a-f]+$", "", name)
                frames.append([name, obj])
                # An inlined function's frame names no object: it is its container's.
                for fr in reversed(frames[:-1]):
                    if fr[1] != "inlined":
                        break
                    fr[1] = obj
    if period is not None:
        yield period, frames


def classify(frames):
    if not frames:
        return "unknown"
    ctx = "none"
    for name, obj in reversed(frames[1:]):
        ctx = pc.transition(ctx, name, obj)
    name, obj = frames[0]
    ctx = pc.transition(ctx, name, obj)
    kstack = tuple(n for n, o in frames if "kernel" in o)
    return pc.leaf_class(ctx, name, obj, None, kstack)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("--per", type=float, default=1.0, help="divide by this (connections)")
    ap.add_argument("--json", help="write {class: us per connection} here")
    args = ap.parse_args()
    classes = collections.Counter()
    total = 0
    for period, frames in samples(args.file):
        classes[classify(frames)] += period
        total += period
    if not total:
        print("no samples", file=sys.stderr)
        return 1
    rows = sorted(classes.items(), key=lambda kv: -kv[1])
    print(f"{'class':66} {'us/conn':>9} {'share':>7}")
    for c, ns in rows:
        print(f"{c[:66]:66} {ns / 1000 / args.per:9.1f} {ns / total:7.2%}")
    print(f"{'total':66} {total / 1000 / args.per:9.1f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({c: ns / 1000 / args.per for c, ns in rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
