#!/usr/bin/env python3
"""End-to-end hub bench: starts bschub, drives it with bschub-load, and prints per run the
delivered msgs/s, the hub's own CPU microseconds per forwarded frame (utime+stime from
/proc over the load phase, divided by the frames the hub counted), latency p50/p99, drops,
and the ratio to the machine's floor (docs/benchmarks.md "The floor": ~1.5 us per 100-byte frame).

    bench/e2e.py [--workers 1,2] [--mode echo] [--nodes 2] [--inflight 32] [--size 100]
                 [--duration 5] [--no-tls] [--ciphersuites aes128] [--threads 1] [--pin]

--pin (default on a 2-core machine): the hub's workers share core 0 and the load tool runs
on core 1, so the hub's CPU figure is not inflated by sharing a core with the load.
Everything runs on 127.0.0.1 and stops by itself."""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree from a bench run
from lib import certs, hubproc, procstat  # noqa: E402
# docs/benchmarks.md, "The floor": mbedTLS seal+open + syscalls, batched
from reportlib.matrix import MEASURED_FLOOR_US as FLOOR_US  # noqa: E402


def run_one(args, workers, pki, build):
    ncpu = os.cpu_count() or 1
    pin = args.pin and ncpu >= 2
    files = (None,) * 3 if args.no_tls else (f"{pki}/hub.pem", f"{pki}/hub.key", f"{pki}/ca.pem")
    # stderr to a file, not a pipe: a pipe nobody reads fills (1,000 node_connected lines)
    # and the hub blocks on its log writes; a thread reading it here would take CPU.
    errlog = tempfile.NamedTemporaryFile(prefix="bschub-e2e-", suffix=".log")
    try:
        hub = hubproc.HubProcess(
            os.path.join(build, "bschub"), *files, tls=not args.no_tls, log_level="info",
            extra_args=["--workers", str(workers)], shutdown_timeout=None,
            stderr_path=errlog.name,
            wrapper=["taskset", "-c", "0"] if pin else ()).start()
    except hubproc.HubStartError as exc:
        raise SystemExit(f"hub did not start: {exc}")
    uri = hub.uri
    with tempfile.NamedTemporaryFile(suffix=".json") as js:
        load_cmd = [os.path.join(build, "bschub-load"), "--uri", uri, "--mode", args.mode,
                    "--nodes", str(args.nodes), "--inflight", str(args.inflight), "--size",
                    args.size, "--duration", str(args.duration), "--threads",
                    str(args.threads), "--quiet", "--json", js.name]
        if args.mode == "broadcast":
            load_cmd += ["--senders", str(args.senders)]
        if not args.no_tls:
            load_cmd += ["--cert", f"{pki}/node1.pem", "--key", f"{pki}/node1.key", "--ca",
                         f"{pki}/ca.pem"]
            if args.ciphersuites:
                load_cmd += ["--ciphersuites", args.ciphersuites]
        if pin:
            load_cmd = ["taskset", "-c", "1"] + load_cmd
        pid = hub.proc.pid
        cpu0 = procstat.cpu_seconds(pid)
        t0 = time.monotonic()
        load = subprocess.run(load_cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=args.duration + 60)
        wall = time.monotonic() - t0
        cpu1 = procstat.cpu_seconds(pid)
        rss = procstat.peak_rss_kb(pid)
        result = json.load(open(js.name)) if os.path.getsize(js.name) else {}
    hub.stop(timeout=10, check=False)
    counters = hubproc.stopped_counters(hub, required=False)
    errlog.close()
    frames = counters["unicast_forwarded"] + counters["broadcast_copies"]
    drops = sum(v for k, v in counters.items() if k.startswith("drop_"))
    cpu = cpu1 - cpu0
    lat = result.get("latency_us", {})
    return {
        "workers": workers, "tls": not args.no_tls, "mode": args.mode, "size": args.size,
        "msgs_per_s": result.get("msgs_per_s", 0), "hub_frames": frames,
        "hub_cpu_s": round(cpu, 3), "hub_cpu_busy": round(cpu / wall, 2),
        "us_per_frame": round(cpu * 1e6 / frames, 3) if frames else None,
        "p50_us": lat.get("p50"), "p99_us": lat.get("p99"), "hub_drops": drops,
        "lost": result.get("lost"), "load_exit": load.returncode, "peak_rss_kb": rss,
        "cross_worker_frames": counters["remote_frames_in"],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--mode", default="echo")
    ap.add_argument("--nodes", type=int, default=2)
    ap.add_argument("--inflight", type=int, default=32)
    ap.add_argument("--size", default="100")
    ap.add_argument("--duration", type=float, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--senders", type=int, default=1, help="broadcast mode: nodes that broadcast")
    ap.add_argument("--no-tls", action="store_true")
    ap.add_argument("--ciphersuites", help="the suites the nodes offer (bschub-load "
                    "--ciphersuites); one name measures that suite")
    ap.add_argument("--no-pin", dest="pin", action="store_false")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--json", help="also write the rows to this file")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as pki:
        if not args.no_tls:
            certs.make_tool_pki(pki)
        for w in [int(x) for x in args.workers.split(",")]:
            rows.append(run_one(args, w, pki, args.build))
    floor = FLOOR_US.get(int(args.size)) if args.size.isdigit() else None
    print(f"{'workers':>7} {'tls':>4} {'mode':>9} {'size':>8} {'msgs/s':>9} {'hub us/frame':>12} "
          f"{'x floor':>7} {'hub busy':>8} {'p50 us':>8} {'p99 us':>8} {'drops':>6} {'lost':>5} {'x-worker':>9}")
    for r in rows:
        ratio = f"{r['us_per_frame'] / floor:.2f}" if floor and r["us_per_frame"] else "-"
        print(f"{r['workers']:>7} {str(r['tls']):>4} {r['mode']:>9} {r['size']:>8} "
              f"{r['msgs_per_s']:>9.0f} {r['us_per_frame'] or 0:>12.2f} {ratio:>7} "
              f"{r['hub_cpu_busy']:>8.2f} {r['p50_us'] or 0:>8.0f} {r['p99_us'] or 0:>8.0f} "
              f"{r['hub_drops']:>6} {r['lost'] or 0:>5} {r['cross_worker_frames']:>9}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0 if all(r["load_exit"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
