#!/usr/bin/python3
"""Soak bench (not a test): hours of connect/disconnect churn compressed into minutes, next
to steady traffic, then a check that the hub's resident memory and descriptor count come
back to where they were.

    bench/soak.py [--minutes 3] [--workers 2] [--build build] [--rss-tolerance-mib 16]

Starts bschub (TLS, --workers 2) on 127.0.0.1 and runs, for --minutes:
  - steady traffic: one `bschub-load --mode echo` (8 nodes, 8 in flight each way);
  - orderly churn: `bschub-load --mode connect --nodes 50 --duration 2` in a loop (TLS
    handshake, Connect-Request, held 2 s, then closed by the tool);
  - abrupt churn: two Python threads that open TLS connections and kill them at random
    points: during the TLS handshake, in the upgrade, after Connect-Request with RST,
    mid-frame with FIN, or after a few heartbeats without close_notify.
VmRSS and the fd count of the hub (/proc) are sampled every second. Baselines: "cold" right
after start, "warm" after a 5 s warm-up round of the same churn (allocator pools and
mbedTLS tables are set up by then). After the run the bench waits for the fd count to come
back (up to 30 s), then reports baseline / peak / final RSS and fds, connections made and
messages. Exit status 1 if the final fd count differs from the baseline or the final RSS
is above the warm baseline by more than --rss-tolerance-mib. Needs /usr/bin/python3
(stdlib only) and the openssl CLI. The machine it runs on should say how busy it was:
figures from a shared machine are indicative.
"""
import argparse
import collections
import json
import os
import random
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree from a bench run
from lib import bvlc, certs, hubproc  # noqa: E402
from lib.procstat import fd_count as proc_fds, rss_kb as proc_rss_kb  # noqa: E402
from lib.wsframe import BINARY, upgrade_request, ws_frame  # noqa: E402

UPGRADE = upgrade_request()


class Sampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.stop = pid, threading.Event()
        self.samples = []   # (t, rss_kb, fds)

    def run(self):
        t0 = time.monotonic()
        while not self.stop.wait(1.0):
            self.samples.append((time.monotonic() - t0, proc_rss_kb(self.pid),
                                 proc_fds(self.pid)))


class AbruptChurner(threading.Thread):
    """Opens TLS node connections and kills each at a random point."""

    def __init__(self, port, ctx, seed):
        super().__init__(daemon=True)
        self.port, self.ctx, self.rng = port, ctx, random.Random(seed)
        self.stop = threading.Event()
        self.connections = 0
        self.errors = collections.Counter()   # exception type -> count

    def one(self):
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        kind = self.rng.randrange(5)
        try:
            if kind == 0:   # die in the TLS handshake: ClientHello, then RST
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.send(b"\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00")
                return
            sock = self.ctx.wrap_socket(sock, server_hostname="127.0.0.1")
            if kind == 1:   # die in the upgrade request
                sock.sendall(UPGRADE[:30])
                return
            sock.sendall(UPGRADE)
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = sock.recv(4096)
                if not chunk:
                    raise ConnectionError("closed during upgrade")
                head += chunk
            vm, uu = bvlc.random_vmac(), bvlc.random_uuid()
            sock.sendall(ws_frame(BINARY, bvlc.connect_request(1, vm, uu)))
            sock.recv(4096)
            if kind == 2:   # RST after Connect-Accept
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            elif kind == 3:  # FIN in the middle of a frame
                sock.sendall(ws_frame(BINARY, bvlc.heartbeat_request(2))[:3])
            else:            # a few heartbeats, then FIN without close_notify
                for i in range(3):
                    sock.sendall(ws_frame(BINARY, bvlc.heartbeat_request(3 + i)))
                    sock.recv(4096)
        finally:
            sock.close()   # an SSLSocket's close() sends no close_notify

    def run(self):
        while not self.stop.is_set():
            try:
                self.one()
                self.connections += 1
            except (OSError, ssl.SSLError, ConnectionError) as exc:
                self.errors[f"{type(exc).__name__} {getattr(exc, 'strerror', '') or exc}"] += 1
                time.sleep(0.05)


class OrderlyChurner(threading.Thread):
    def __init__(self, cmd):
        super().__init__(daemon=True)
        self.cmd, self.stop = cmd, threading.Event()
        self.runs = self.connections = self.failed = 0

    def run(self):
        while not self.stop.is_set():
            with tempfile.NamedTemporaryFile(suffix=".json") as js:
                r = subprocess.run(self.cmd + ["--json", js.name], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, timeout=120)
                self.runs += 1
                if r.returncode != 0:
                    self.failed += 1
                try:
                    self.connections += int(json.load(open(js.name))["connect"]["connected"])
                except (ValueError, OSError, KeyError):
                    pass


def churn(args, port, pki, seconds, load_base):
    """Runs both churners for `seconds`; returns (abrupt, orderly) counts."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(pki.ca_cert)
    ctx.load_cert_chain(*pki.node(1))
    abrupt = [AbruptChurner(port, ctx, seed) for seed in (1, 2)]
    orderly = OrderlyChurner(load_base + ["--mode", "connect", "--nodes", "50",
                                          "--duration", "2"])
    for t in abrupt + [orderly]:
        t.start()
    time.sleep(seconds)
    for t in abrupt + [orderly]:
        t.stop.set()
    for t in abrupt + [orderly]:
        t.join(150)
    errors = sum((t.errors for t in abrupt), collections.Counter())
    return (sum(t.connections for t in abrupt), errors,
            orderly.runs, orderly.connections, orderly.failed)


def wait_fds(pid, target, timeout):
    deadline = time.monotonic() + timeout
    while proc_fds(pid) != target and time.monotonic() < deadline:
        time.sleep(0.25)
    return proc_fds(pid)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--rss-tolerance-mib", type=float, default=16.0)
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    pki = certs.make_pki(tempfile.mkdtemp(prefix="bschub-soak-pki-"))
    errlog = tempfile.NamedTemporaryFile(prefix="bschub-soak-", suffix=".log", delete=False)
    # stderr to a file (kept, named in the figures), not read here while the soak runs.
    hub = hubproc.HubProcess(os.path.join(args.build, "bschub"), pki.hub_cert, pki.hub_key,
                             pki.ca_cert, log_level="info", stderr_path=errlog.name,
                             extra_args=["--workers", str(args.workers)],
                             shutdown_timeout=None)
    try:
        try:
            hub.start()
        except hubproc.HubStartError:
            raise SystemExit("bschub did not start; see " + errlog.name)
        port = hub.port
        pid = hub.proc.pid
        cert, key = pki.node(0)
        load_base = [os.path.join(args.build, "bschub-load"), "--uri", f"wss://127.0.0.1:{port}",
                     "--cert", cert, "--key", key, "--ca", pki.ca_cert, "--quiet"]
        time.sleep(0.5)
        cold = (proc_rss_kb(pid), proc_fds(pid))
        print(f"cold baseline: RSS {cold[0]} KiB, fds {cold[1]}", flush=True)
        churn(args, port, pki, 5, load_base)
        wait_fds(pid, cold[1], 30)
        time.sleep(2)
        warm = (proc_rss_kb(pid), proc_fds(pid))
        print(f"warm baseline: RSS {warm[0]} KiB, fds {warm[1]}", flush=True)

        seconds = args.minutes * 60
        sampler = Sampler(pid)
        sampler.start()
        with tempfile.NamedTemporaryFile(suffix=".json") as js:
            echo = subprocess.Popen(load_base + ["--mode", "echo", "--nodes", "8", "--inflight",
                                                 "8", "--duration", str(seconds), "--json",
                                                 js.name], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            t0 = time.monotonic()
            counts = churn(args, port, pki, seconds, load_base)
            echo_rc = echo.wait(timeout=120)
            elapsed = time.monotonic() - t0
            try:
                echo_res = json.load(open(js.name))
            except (ValueError, OSError):
                echo_res = {}
        final_fds = wait_fds(pid, warm[1], 30)
        time.sleep(2)
        sampler.stop.set()
        sampler.join()
        final_rss = proc_rss_kb(pid)
        peak_rss = max([s[1] for s in sampler.samples] + [final_rss])
        peak_fds = max([s[2] for s in sampler.samples] + [final_fds])
    finally:
        hub.stop(timeout=15, check=False)
        pki.cleanup()
    counters = dict(hubproc.stopped_counters(hub, required=False))
    abrupt, abrupt_err, runs, orderly, orderly_failed = counts
    figures = {
        "minutes": round(elapsed / 60, 2), "workers": args.workers,
        "rss_kb": {"cold": cold[0], "warm": warm[0], "peak": peak_rss, "final": final_rss},
        "fds": {"cold": cold[1], "warm": warm[1], "peak": peak_fds, "final": final_fds},
        "abrupt_connections": abrupt, "abrupt_errors": dict(abrupt_err),
        "load_connect_runs": runs, "load_connect_failed_runs": orderly_failed,
        "load_connections": orderly,
        "echo_msgs": echo_res.get("frames"), "echo_msgs_per_s": echo_res.get("msgs_per_s"),
        "echo_lost": echo_res.get("lost"), "echo_exit": echo_rc,
        "hub_counters": counters, "hub_exit": hub.proc.returncode, "hub_log": errlog.name,
        "loadavg": os.getloadavg(),
    }
    print(json.dumps(figures, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=1)
    problems = []
    if final_fds != warm[1]:
        problems.append(f"final fds {final_fds} != baseline {warm[1]}")
    if final_rss > warm[0] + args.rss_tolerance_mib * 1024:
        problems.append(f"final RSS {final_rss} KiB > warm baseline {warm[0]} KiB + "
                        f"{args.rss_tolerance_mib} MiB")
    if hub.proc.returncode != 0:
        problems.append(f"hub exit status {hub.proc.returncode}")
    for p in problems:
        print("soak: FAIL:", p)
    print("soak: OK" if not problems else "soak: FAILED")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
