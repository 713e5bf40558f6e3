#!/usr/bin/python3
"""Failover bench: how fast N nodes move from a dead primary hub to its failover hub, and
what the move costs the failover hub; then how fast they return to the restarted primary.

    bench/failover.py [--nodes 1000] [--mode idle] [--interval 1] [--threads 1]
                      [--workers 1] [--no-pin] [--no-key-file] [--build build] [--json FILE]

Starts a primary and a failover bschub on 127.0.0.1 with one --ticket-key-file (80 random
octets from `openssl rand`; --no-key-file: none, so every move is a full handshake), and
`bschub-load --failover-uri` with --nodes nodes (--mode idle: heartbeats only, so the
failover hub's CPU is the cost of the moves; echo adds traffic). Once every node is on the
primary, the primary gets SIGKILL. Printed:
  - recover: kill -> every node connected to the failover hub (its /metrics, polled every
    20 ms), and the tool's own figure (first loss seen -> last Connect-Accept, per-node p50
    and max);
  - the failover hub's CPU (utime+stime from /proc) from the kill to full recovery, per
    recovered node, and its handshakes in that time: resumed vs full;
  - return: the primary restarted on its port -> every node back on it and the failover
    hub empty (the nodes check the primary every --interval s), with the new primary's
    resumed/full handshakes and CPU per returned node.
--pin (default on 2+ cores): both hubs on core 0, the load tool on core 1. Every wait is
bounded; the tool is stopped with SIGINT at the end. The /metrics polls cost the hubs a
little CPU too (a few requests per second).
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree from a bench run
from lib import certs, hubproc, procstat  # noqa: E402
from lib.metrics import http_request, parse_metrics, total  # noqa: E402

POLL = 0.02


def metrics(hub):
    status, _, body = http_request(hub.metrics_port, "/metrics")
    if status != 200:
        raise SystemExit(f"/metrics of :{hub.port} answered {status}")
    return parse_metrics(body)


def connected(hub):
    return total(metrics(hub), "bschub_nodes", state="connected")


def handshakes(hub):
    m = metrics(hub)
    return (total(m, "bschub_tls_handshakes_total", kind="resumed"),
            total(m, "bschub_tls_handshakes_total", kind="full"))


def wait_until(what, predicate, limit):
    t0 = time.monotonic()
    while not predicate():
        if time.monotonic() - t0 > limit:
            raise SystemExit(f"failover bench: not within {limit} s: {what}")
        time.sleep(POLL)
    return time.monotonic()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--mode", default="idle", choices=("idle", "echo"))
    ap.add_argument("--interval", default="1", help="bschub-load --reconnect-interval (s)")
    ap.add_argument("--threads", type=int, default=1, help="bschub-load --threads")
    ap.add_argument("--workers", type=int, default=1, help="each hub's --workers")
    ap.add_argument("--no-pin", dest="pin", action="store_false")
    ap.add_argument("--no-key-file", dest="key_file", action="store_false")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    if args.mode == "echo" and args.nodes % 2:
        raise SystemExit("--nodes must be even in echo mode")
    pin = args.pin and (os.cpu_count() or 1) >= 2
    limit = 30 + args.nodes / 20  # generous bound for each phase

    with tempfile.TemporaryDirectory(prefix="bschub-failover-bench-") as tmp:
        certs.make_tool_pki(tmp)
        key_file = os.path.join(tmp, "ticket.key")
        subprocess.run(["openssl", "rand", "-out", key_file, "80"], check=True)
        hubs = []

        def start(name, port=0):
            extra = ["--workers", str(args.workers)]
            if args.key_file:
                extra += ["--ticket-key-file", key_file]
            hub = hubproc.HubProcess(
                os.path.join(args.build, "bschub"), f"{tmp}/hub.pem", f"{tmp}/hub.key",
                f"{tmp}/ca.pem", log_level="warn", extra_args=extra, metrics=True,
                shutdown_timeout=None, stderr_path=os.path.join(tmp, name + ".log"),
                wrapper=["taskset", "-c", "0"] if pin else (), port=port).start()
            hubs.append(hub)
            return hub

        load = None
        try:
            primary, failover = start("primary"), start("failover")
            js = os.path.join(tmp, "load.json")
            cmd = [os.path.join(args.build, "bschub-load"), "--uri", primary.uri,
                   "--failover-uri", failover.uri, "--cert", f"{tmp}/node1.pem", "--key",
                   f"{tmp}/node1.key", "--ca", f"{tmp}/ca.pem", "--mode", args.mode,
                   "--nodes", str(args.nodes), "--threads", str(args.threads),
                   "--duration", "3600", "--reconnect-interval", args.interval, "--quiet",
                   "--json", js]
            if pin:
                cmd = ["taskset", "-c", "1"] + cmd
            load_err = open(os.path.join(tmp, "load.err"), "w")
            load_out = open(os.path.join(tmp, "load.out"), "w")
            load = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=load_out,
                                    stderr=load_err)
            wait_until("every node on the primary",
                       lambda: connected(primary) == args.nodes, limit)
            time.sleep(0.5)  # the connect storm's tail (tickets, first heartbeats) settles

            # ---- kill the primary -----------------------------------------------------
            port = primary.port
            cpu0 = procstat.cpu_seconds(failover.proc.pid)
            hs0 = handshakes(failover)
            t_kill = time.monotonic()
            primary.send_signal(signal.SIGKILL)
            primary.wait(5)
            t_all = wait_until("every node on the failover hub",
                               lambda: connected(failover) == args.nodes, limit)
            cpu1 = procstat.cpu_seconds(failover.proc.pid)
            hs1 = handshakes(failover)
            recover_s = t_all - t_kill
            resumed, full = hs1[0] - hs0[0], hs1[1] - hs0[1]

            # ---- restart it on its port -------------------------------------------------
            time.sleep(0.5)
            primary2 = start("primary2", port=port)
            cpu2 = procstat.cpu_seconds(primary2.proc.pid)
            t_restart = time.monotonic()
            t_back = wait_until("every node back on the primary",
                                lambda: connected(primary2) == args.nodes
                                and connected(failover) == 0, limit)
            cpu3 = procstat.cpu_seconds(primary2.proc.pid)
            back_resumed, back_full = handshakes(primary2)
            return_s = t_back - t_restart

            load.send_signal(signal.SIGINT)
            rc = load.wait(60)
            with open(js) as f:
                tool = json.load(f)
        finally:
            if load is not None and load.poll() is None:
                load.kill()
                load.wait()
            for hub in hubs:
                if hub.alive():
                    hub.stop(timeout=10, check=False)

    fo = tool.get("failover", {})
    n = args.nodes
    fig = {
        "nodes": n, "mode": args.mode, "interval_s": float(args.interval),
        "key_file": args.key_file, "pinned": pin, "workers": args.workers,
        "recover_s": round(recover_s, 3),
        "tool_recover_all_s": fo.get("recover_all_s"),
        "tool_recover_p50_s": fo.get("recover_p50_s"),
        "tool_recover_max_s": fo.get("recover_max_s"),
        "failover_cpu_s": round(cpu1 - cpu0, 3),
        "failover_cpu_us_per_node": round((cpu1 - cpu0) * 1e6 / n, 1),
        "failover_resumed": int(resumed), "failover_full": int(full),
        "return_s": round(return_s, 3),
        "primary_cpu_us_per_node": round((cpu3 - cpu2) * 1e6 / n, 1),
        "return_resumed": int(back_resumed), "return_full": int(back_full),
        "tool": {k: fo.get(k) for k in ("failovers", "returns", "on_primary", "on_failover",
                                         "lost_in_flight", "inflight_at_loss", "reconnects",
                                         "resumed", "full")},
        "tool_ok": tool.get("ok"), "tool_exit": rc,
    }
    key = "shared" if args.key_file else "none"
    print(f"failover bench: {n} nodes ({args.mode}), key file {key}, "
          f"interval {args.interval} s, {'pinned' if pin else 'not pinned'}")
    print(f"  recover: {fig['recover_s']:.3f} s kill -> all {n} on the failover hub "
          f"(tool: all {fo.get('recover_all_s', 0):.3f} s, per node p50 "
          f"{fo.get('recover_p50_s', 0) * 1e3:.1f} ms, "
          f"max {fo.get('recover_max_s', 0) * 1e3:.1f} ms)")
    print(f"  failover hub: {fig['failover_cpu_s']:.3f} s CPU = "
          f"{fig['failover_cpu_us_per_node']:.0f} us per recovered node; handshakes "
          f"resumed {fig['failover_resumed']} full {fig['failover_full']}")
    print(f"  return: {fig['return_s']:.3f} s restart -> all {n} back on the primary; "
          f"handshakes resumed {fig['return_resumed']} full {fig['return_full']}, "
          f"{fig['primary_cpu_us_per_node']:.0f} us CPU per node (start-up included)")
    t = fig["tool"]
    print(f"  tool: failovers={t['failovers']} returns={t['returns']} "
          f"on_primary={t['on_primary']} on_failover={t['on_failover']} "
          f"lost_in_flight={t['lost_in_flight']} (in flight {t['inflight_at_loss']}) "
          f"reconnects={t['reconnects']} resumed={t['resumed']} full={t['full']} "
          f"ok={fig['tool_ok']} exit={rc}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(fig, f, indent=1)
    return 0 if rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
