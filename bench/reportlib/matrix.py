"""The benchmark matrix (see bench/report.py) and the floors a row is compared with."""
import shlex

from . import NCPU, PIN

# Floors (docs/benchmarks.md, "The floor"). 100 B: measured ~1.5 us per forwarded frame (AES-GCM
# open+seal, batched read/write). Other sizes: 2 x (0.08 + 0.0035 * S) us of AES-GCM (one open,
# one seal) + ~1 us of syscalls => 1400 B: ~10.96 us.
def mean_size(size):
    """NPDU size of a row: N, or the mean of a MIN-MAX range."""
    if isinstance(size, str) and "-" in size:
        lo, hi = (int(x) for x in size.split("-"))
        return (lo + hi) / 2
    return int(size)


MEASURED_FLOOR_US = {100: 1.5}  # NPDU size -> us per frame measured (bench/e2e.py uses it too)


def frame_floor_us(size):
    size = mean_size(size)
    if size in MEASURED_FLOOR_US:
        return MEASURED_FLOOR_US[size]
    return 2 * (0.08 + 0.0035 * size) + 1.0


HANDSHAKE_FLOOR_MS = 3.2  # mutual-TLS 1.3 server handshake, mbedTLS ECC alone


def specs(args):
    """The rows to run, in order: dicts of mode, workers, tls, nodes, size, inflight,
    duration, label (and suite, senders, hub_args, load_args where a row needs them)."""
    W = list(range(1, NCPU + 1))
    D = args.duration
    runs = []
    sizes = [100, 1024, 1400]
    if args.quick:
        W, sizes, D = [1, NCPU] if NCPU > 1 else [1], [100], 1.0
    for tls in (True, False):
        for size in sizes:
            for w in W:
                runs.append(dict(mode="echo", workers=w, tls=tls, nodes=16, inflight=16, size=size, duration=D,
                                  label=f"echo {'TLS' if tls else 'plain'} {size} B, {w} worker(s)"))
    if not args.quick:
        runs.append(dict(mode="echo", workers=1, tls=True, nodes=16, inflight=16, size=1024, duration=D,
                          suite="aes128", label="echo TLS 1024 B, 1 worker(s), AES-128-GCM"))
    runs.append(dict(mode="echo", workers=1, tls=True, nodes=2, inflight=8, size="25-1400", duration=D,
                      label="light load: echo TLS 25-1400 B, 8 in flight, 1 worker(s)"))
    if PIN:  # the load tool has core 1 to itself: let it answer without sleeping
        runs.append(dict(mode="echo", workers=1, tls=True, nodes=2, inflight=8, size="25-1400", duration=D,
                          load_args=["--busy-poll"],
                          label="light load: echo TLS 25-1400 B, 8 in flight, 1 worker(s), load tool busy-polling"))
    wn = sorted({1, NCPU})
    bc_runs = [(100, 1), (1000, 1), (1000, 64)] if not args.quick else [(100, 1), (100, 8)]
    for n, senders in bc_runs:
        for w in wn:
            runs.append(dict(mode="broadcast", workers=w, tls=True, nodes=n, senders=senders, size=100, duration=D,
                              label=f"broadcast TLS to {n} nodes, {senders} sender(s), {w} worker(s)"))
    for w in wn:
        runs.append(dict(mode="connect", workers=w, tls=True, nodes=1000 if not args.quick else 200,
                          label=f"connect storm TLS, {w} worker(s)"))
    idle_n = 2000 if not args.quick else 200
    for tls in (True, False):
        runs.append(dict(mode="idle", workers=NCPU, tls=tls, nodes=idle_n, duration=args.idle_hold,
                          hub_args=["--idle-trim", "1"],
                          label=f"idle {'TLS' if tls else 'plain'} {idle_n} nodes, {NCPU} worker(s)"))

    if args.only:
        runs = [s for s in runs if args.only in s["label"]]
    extra = shlex.split(getattr(args, "hub_args", "") or "")
    for s in runs:
        s["hub_args"] = [*s.get("hub_args", ()), *extra]
    return runs
