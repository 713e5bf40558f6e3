#!/usr/bin/python3
"""Splits a callgrind profile of bschub (instructions, Ir) into the cost classes of
docs/handshake-profile.md: each ECC operation, symmetric crypto, X.509, mbedTLS bookkeeping,
our code by file, malloc, libc, libuv.

    bench/callgrind_split.py CALLGRIND_FILE [--per N] [--us-per-ir X] [--json OUT]

--per N divides by N (connections); --us-per-ir converts to microseconds.

How a cost is attributed: callgrind keeps only caller->callee edges, not whole stacks, so a
function's context (which class it runs for) is the mix of its callers' contexts weighted by
the instructions of each call (gprof's assumption; exact for the handshake paths, where each
crypto entry point is called from one place). Entering certain functions changes the context:
an ECC operation (sign, verify, key agreement, key generation) absorbs everything below it,
including its malloc; symmetric crypto, X.509 parsing and our own files take what runs
below them unless an ECC operation starts there. Outside any context a function's own
instructions go to its library (mbedTLS, libc, libuv) or to its source file (ours)."""
import argparse
import collections
import json
import re
import sys

import profile_classes as pc

def parse(path):
    names = {"ob": {}, "fl": {}, "fn": {}}
    self_cost = collections.Counter()
    edges = collections.Counter()  # (caller, callee) -> inclusive Ir of those calls
    info = {}  # fn key -> (object, file)
    ob = fl = fn = None
    cob = cfl = cfn = None
    pending_call = False
    total = 0

    def name(kind, v):
        m = re.match(r"\((\d+)\)(?: (.*))?$", v)
        if not m:
            return v
        if m.group(2) is not None:
            names[kind][m.group(1)] = m.group(2)
        return names[kind].get(m.group(1), v)

    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            c = line[0]
            if c.isdigit() or c in "+-*":
                parts = line.split()
                cost = int(parts[1]) if len(parts) > 1 else 0
                if pending_call:
                    edges[(fn, cfn_key)] += cost
                    pending_call = False
                else:
                    self_cost[fn] += cost
                    total += cost
                continue
            key, _, val = line.partition("=")
            if key == "ob":
                ob = name("ob", val)
            elif key == "fl":
                fl = name("fl", val)
            elif key in ("fi", "fe"):
                name("fl", val)
            elif key == "fn":
                fn = (ob, name("fn", val))
                info.setdefault(fn, (ob, fl))
                cob = cfl = None
            elif key == "cob":
                cob = name("ob", val)
            elif key in ("cfi", "cfl"):
                cfl = name("fl", val)
            elif key == "cfn":
                cfn = name("fn", val)
            elif key == "calls":
                cfn_key = (cob or ob, cfn)
                info.setdefault(cfn_key, (cob or ob, cfl or fl))
                pending_call = True
                cob = cfl = None
    return self_cost, edges, info, total


def split(path):
    self_cost, edges, info, total = parse(path)
    funcs = set(self_cost) | {a for a, _ in edges} | {b for _, b in edges}
    incoming = collections.defaultdict(list)
    for (a, b), w in edges.items():
        if a != b and w > 0:
            incoming[b].append((a, w))
    # ctx_in[f]: distribution of the contexts f is entered in. Iterate to a fixed point
    # (the call graph has cycles: recursion inside bignum code, the event loop).
    ctx_in = {f: {"none": 1.0} for f in funcs}
    for _ in range(60):
        changed = 0.0
        below = {}
        for f in funcs:
            d = collections.Counter()
            ob, fl = info.get(f, ("", ""))
            for c, p in ctx_in[f].items():
                d[pc.transition(c, f[1], ob, fl)] += p
            below[f] = d
        for f in funcs:
            inc = incoming.get(f)
            if not inc:
                continue
            tot = sum(w for _, w in inc)
            d = collections.Counter()
            for a, w in inc:
                for c, p in below[a].items():
                    d[c] += p * w / tot
            changed += sum(abs(d[c] - ctx_in[f].get(c, 0.0)) for c in set(d) | set(ctx_in[f]))
            ctx_in[f] = dict(d)
        if changed < 1e-9:
            break
    classes = collections.Counter()
    detail = collections.defaultdict(collections.Counter)  # class -> function -> Ir
    for f, ir in self_cost.items():
        ob, fl = info.get(f, ("", ""))
        for c, p in ctx_in[f].items():
            cls = pc.leaf_class(pc.transition(c, f[1], ob, fl), f[1], ob, fl)
            classes[cls] += ir * p
            detail[cls][f[1]] += ir * p
    return classes, total, detail


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("--per", type=float, default=1.0, help="divide by this (connections)")
    ap.add_argument("--us-per-ir", type=float, default=0.0, help="also print microseconds")
    ap.add_argument("--json", help="write {class: Ir per connection} here")
    ap.add_argument("--detail", action="append", default=[],
                    help="also list the functions (own Ir) of the classes containing this text")
    args = ap.parse_args()
    classes, total, detail = split(args.file)
    rows = sorted(classes.items(), key=lambda kv: -kv[1])
    print(f"{'class':62} {'Ir/conn':>12} {'share':>7}" + (f" {'us':>8}" if args.us_per_ir else ""))
    for c, ir in rows:
        per = ir / args.per
        line = f"{c[:62]:62} {per:12,.0f} {ir / total:7.2%}"
        if args.us_per_ir:
            line += f" {per * args.us_per_ir:8.1f}"
        print(line)
    print(f"{'total':62} {total / args.per:12,.0f}")
    for want in args.detail:
        for c, ir in rows:
            if want.lower() not in c.lower():
                continue
            print(f"\n{c}: own instructions of its functions")
            for fn, fir in detail[c].most_common(25):
                print(f"  {fn[:70]:70} {fir / args.per:12,.0f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({c: ir / args.per for c, ir in rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
