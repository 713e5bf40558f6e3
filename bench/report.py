#!/usr/bin/python3
"""Benchmark report for bschub: runs a fixed matrix against build/bschub with build/bschub-load
and writes bench/results/report.md (markdown tables), report.json (the raw rows) and PNG plots
(throughput vs workers, echo latency CDF). Use bench/report.sh, which also installs
python3-matplotlib if it is missing.

    bench/report.py [--duration 3] [--build build] [--out bench/results] [--quick]

Matrix (N = CPUs):
  echo       workers 1..N x {TLS, plaintext} x NPDU {100, 1024, 1400} B, 16 nodes, 16 in flight/pair
  light      TLS, 1 pair with 8 echo exchanges in flight, NPDU 25-1400 B mixed, workers 1;
             again with bschub-load --busy-poll (with 2+ CPUs: the tool has its own core)
  broadcast  TLS, 100 B, to 100 and to 1,000 nodes, workers 1 and N, 1 sender (one broadcast
             in flight) and 1,000 nodes with 64 senders (many in flight)
  connect    TLS, a storm of 1,000 nodes (64 concurrent handshakes), workers 1 and N
  idle       2,000 nodes held (TLS and plaintext), workers N: hub RSS per connection

The hub (all its workers) is pinned to core 0, the load tool (and this script) to core 1
when the machine has at least 2 CPUs (as bench/e2e.py does). Everything runs on 127.0.0.1;
every process is bounded in time and killed when this script ends (PR_SET_PDEATHSIG too).

This file is the command line; bench/reportlib/ does the work: matrix.py (the rows and the
floors), run.py (one run), render.py (report.md), plot.py (the PNGs)."""
import argparse
import datetime
import json
import os
import shlex
import signal
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree from a bench run
from reportlib import PIN, ROOT, matrix  # noqa: E402  (also puts tests/integration on the path)
from reportlib.plot import make_plots  # noqa: E402
from reportlib.render import fmt, write_report  # noqa: E402
from reportlib.run import kill_all, machine_meta, on_signal, run  # noqa: E402
from lib import certs  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=float, default=3.0, help="seconds of traffic per echo/broadcast run")
    ap.add_argument("--idle-hold", type=float, default=6.0)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    ap.add_argument("--quick", action="store_true", help="tiny matrix to test the script")
    ap.add_argument("--max-load", type=float, default=1.5, help="wait while the 1-min load average is above")
    ap.add_argument("--from-json", help="no runs: re-render report.md and the plots from a report.json")
    ap.add_argument("--only", help="run only the matrix rows whose label contains this text")
    ap.add_argument("--hub-args", default="",
                    help="extra bschub options for every row, e.g. '--device-instance 4000' "
                         "(to compare a feature on and off)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if args.from_json:
        with open(args.from_json) as f:
            d = json.load(f)
        plots = make_plots(d["rows"], args.out, lambda m: print(m, file=sys.stderr))
        write_report(d["rows"], d["meta"], args.out, plots)
        return 0
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    os.makedirs(args.out, exist_ok=True)
    if PIN:
        os.sched_setaffinity(0, {1})
    start = time.monotonic()

    def log(msg):
        print(f"[{time.monotonic() - start:6.1f}s] {msg}", file=sys.stderr, flush=True)

    # Bounded wait for a quiet machine (others may be running tests): up to 4 x 30 s.
    load_start = os.getloadavg()
    for i in range(4):
        la = os.getloadavg()[0]
        if la <= args.max_load:
            break
        log(f"load average {la:.2f} > {args.max_load}: waiting 30 s ({i + 1}/4)")
        time.sleep(30)
    load_start = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    log(f"load average {load_start}")

    specs = matrix.specs(args)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bschub-report-") as pki:
        certs.make_tool_pki(pki)
        try:
            # warm-up (not reported): page cache, CPU frequency, first-run effects
            log("warm-up: 1 s echo TLS 100 B (not reported)")
            run(dict(mode="echo", workers=1, tls=True, nodes=16, inflight=16, size=100, duration=1.0,
                     label="warm-up"), args, pki, log)
            for i, s in enumerate(specs):
                log(f"run {i + 1}/{len(specs)}: {s['label']}")
                r = run(s, args, pki, log)
                rows.append(r)
                extra = ""
                if r["mode"] == "connect":
                    extra = f"hs/s={fmt(r['handshakes_per_s'])} ms/hs={r.get('hub_ms_per_handshake')}"
                elif r["mode"] == "idle":
                    extra = f"KB/node peak={r['kb_per_node_peak']} held={r['kb_per_node_steady']}"
                log(f"  rate={fmt(r['rate'])} hub_cpu={r['hub_cpu_s']}s busy={r['hub_busy']:.0%} "
                    f"load_busy={r['load_busy']:.0%} us/frame={r['us_per_frame']} p50={r['p50_us']} p99={r['p99_us']} "
                    f"drops={r['hub_drops']} lost={r['lost']} exit={r['load_exit']} rss={r['peak_rss_kb']}KB {extra}")
        finally:
            kill_all()
        meta = machine_meta(args.build)
    meta.update({
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "runtime_s": time.monotonic() - start, "load_start": load_start,
        "load_end": " / ".join(f"{x:.2f}" for x in os.getloadavg()),
        "max_other_before": max((r["other_cores_before"] for r in rows), default=0),
        "max_other_during": max((r["other_cores_during"] for r in rows), default=0),
        "waited_s": sum(r["waited_s"] for r in rows), "pki": pki,
        "argv": " ".join(["bench/report.py"] + [shlex.quote(a) for a in sys.argv[1:]]),
        "bin_mtime": datetime.datetime.fromtimestamp(os.path.getmtime(os.path.join(args.build, "bschub")))
        .astimezone().strftime("%Y-%m-%d %H:%M %Z"),
    })
    plots = make_plots(rows, args.out, log)
    meta["runtime_s"] = time.monotonic() - start
    write_report(rows, meta, args.out, plots)
    tmp = os.path.join(args.out, "report.json.tmp")
    with open(tmp, "w") as f:
        json.dump({"meta": meta, "rows": rows}, f, indent=1, default=str)
    os.replace(tmp, os.path.join(args.out, "report.json"))
    log(f"wrote {args.out}/report.md ({len(rows)} runs, {meta['runtime_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
