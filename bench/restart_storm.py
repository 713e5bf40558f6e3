#!/usr/bin/python3
"""Restart storm, hub side: every node returns at once after a hub restart. How much hub CPU
does it cost, and do the nodes resume their TLS sessions?

    bench/restart_storm.py [--nodes 10000] [--inflight 64] [--build build] [--json OUT]

All on 127.0.0.1, hub (--workers 1) pinned to core 0, bschub-load (--threads 1) to core 1:
  1. ECC floor: build/bench/ecc_floor (timed by its thread's CPU clock) on core 0;
  2. with a ticket key file: hub A with --ticket-key-file F; N nodes connect (full
     handshakes), saving their tickets; hub A stops (SIGTERM); hub B starts with the same F;
     the N nodes come back with --resume: the restart storm;
  3. the same without a key file: hub B has a new random ticket key, the tickets do not
     open, every node does a full handshake again.
For each storm: the hub's CPU (utime+stime of /proc/PID/stat, from just before the storm to
its end, the nodes' departure included), wall time, handshakes/s, the fraction resumed, and
CPU per connection against the floor. Targets: full <= 1.5 x (sign + verify + ECDHE),
resumed <= 1.5 x ECDHE, >= 95% resumed after a restart with the same key file. Exit 1 if a
storm fails or a target is missed. The key-file half is skipped (and said so) with a hub
that has no --ticket-key-file. The tool's nodes share one certificate, so a hub with a
known-certificate cache runs with --known-certificates 0 (each real node has its own
certificate: after a restart every full handshake checks its CA signature) unless
--keep-known-certificates. Every process is bounded in time and dies with the script."""
import argparse
import json
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
from reportlib import PIN, ROOT  # noqa: E402  (also puts tests/integration on the path)
from reportlib.run import kill_all, on_signal, spawn  # noqa: E402
from lib import certs, procstat  # noqa: E402

HUB_CORE, LOAD_CORE = 0, 1


def pinned(core):
    return ["taskset", "-c", str(core)] if PIN else []


def ecc_floor(build):
    """{'sign','verify','ecdhe'}: microseconds per operation on the hub's core, by
    bench/ecc_floor.cpp (its thread's CPU clock, the lowest of three runs)."""
    out = subprocess.run(pinned(HUB_CORE) + [os.path.join(build, "bench", "ecc_floor")],
                         capture_output=True, text=True, check=True, timeout=300).stdout
    m = re.search(r"sign_us=(\d+) verify_us=(\d+) ecdhe_us=(\d+)", out)
    return dict(sign=int(m.group(1)), verify=int(m.group(2)), ecdhe=int(m.group(3)))


def hub_has_option(build, option):
    out = subprocess.run([os.path.join(build, "bschub"), "--help"], capture_output=True,
                         text=True, timeout=10).stdout
    return option in out


class Hub:
    def __init__(self, args, pki, work, key_file):
        cmd = pinned(HUB_CORE) + [
            os.path.join(args.build, "bschub"), "--listen", "127.0.0.1:0",
            "--cert", f"{pki}/hub.pem", "--key", f"{pki}/hub.key", "--ca", f"{pki}/ca.pem",
            "--workers", "1", "--log-level", "warn", "--max-connections", str(args.nodes + 100)]
        if key_file:
            cmd += ["--ticket-key-file", key_file]
        if args.no_known_certificates:
            cmd += ["--known-certificates", "0"]
        self.out = os.path.join(work, "hub.out")
        with open(self.out, "w") as out, open(os.path.join(work, "hub.err"), "w") as err:
            self.proc = spawn(cmd, stdout=out, stderr=err)
        self.uri = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.uri is None:
            with open(self.out) as f:
                m = re.search(r"^bschub listening on (\S+)", f.read(), re.M)
            if m:
                self.uri = m.group(1)
            elif self.proc.poll() is not None:
                break
            else:
                time.sleep(0.05)
        if not self.uri:
            with open(os.path.join(work, "hub.err")) as f:
                raise SystemExit("bschub did not start: " + f.read()[-2000:])

    def cpu(self):
        return procstat.cpu_seconds(self.proc.pid)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def storm(args, hub, pki, work, tickets_flag, tickets_file, label):
    js = os.path.join(work, f"{label}.json")
    cmd = pinned(LOAD_CORE) + [
        os.path.join(args.build, "bschub-load"), "--uri", hub.uri,
        "--cert", f"{pki}/node1.pem", "--key", f"{pki}/node1.key", "--ca", f"{pki}/ca.pem",
        "--quiet", "--mode", "connect", "--nodes", str(args.nodes),
        "--inflight", str(args.inflight), "--threads", "1", tickets_flag, tickets_file,
        "--json", js]
    cpu0, t0 = hub.cpu(), time.monotonic()
    p = spawn(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _, err = p.communicate(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        raise SystemExit(f"{label}: bschub-load did not finish in {args.timeout} s")
    wall, cpu = time.monotonic() - t0, hub.cpu() - cpu0
    with open(js) as f:
        r = json.load(f)
    c = r["counters"]
    row = dict(storm=label, nodes=args.nodes, connected=c["connect_ok"], resumed=c["resumed"],
               failed=r["connect"]["failed"], wall_s=round(wall, 2),
               handshakes_per_s=round(r["connect"]["handshakes_per_s"], 1),
               hub_cpu_s=round(cpu, 2), hub_us_per_conn=round(cpu * 1e6 / args.nodes),
               resumed_fraction=round(c["resumed"] / args.nodes, 4), load_exit=p.returncode)
    if p.returncode != 0:
        row["load_stderr"] = err[-500:]
    print(f"  {label}: {row['connected']}/{args.nodes} connected, {row['resumed']} resumed "
          f"({row['resumed_fraction']:.1%}), {row['handshakes_per_s']:.0f} handshakes/s, wall "
          f"{wall:.1f} s, hub CPU {cpu:.2f} s = {row['hub_us_per_conn']} us per connection",
          flush=True)
    return row


def restart_round(args, pki, work, key_file, label):
    """First contact (full handshakes, tickets saved), hub restart, everyone returns."""
    tickets = os.path.join(work, f"{label}.tickets")
    hub = Hub(args, pki, work, key_file)
    first = storm(args, hub, pki, work, "--save-tickets", tickets, f"{label}: first contact")
    hub.stop()
    hub = Hub(args, pki, work, key_file)
    back = storm(args, hub, pki, work, "--resume", tickets, f"{label}: after restart")
    hub.stop()
    return [first, back]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=10000)
    ap.add_argument("--inflight", type=int, default=64, help="concurrent handshakes of the load tool")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--timeout", type=float, default=0, help="seconds per storm (default: nodes/20 + 60)")
    ap.add_argument("--json", help="also write the rows and the floor here")
    ap.add_argument("--keep-known-certificates", action="store_true",
                    help="leave the hub's known-certificate cache on (see below)")
    args = ap.parse_args()
    args.timeout = args.timeout or args.nodes / 20 + 60
    # bschub-load's nodes all present one certificate; a hub's known-certificate cache would
    # check its CA signature once and never again, which 10,000 real nodes (10,000
    # certificates) never get. So the cache is off unless asked (hubs without it: nothing).
    args.no_known_certificates = (not args.keep_known_certificates and
                                  hub_has_option(args.build, "--known-certificates"))
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    # One descriptor per node in the hub and in the tool (children inherit the limit).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.nodes + 1024
    if soft < want:
        if hard != resource.RLIM_INFINITY and hard < want:
            raise SystemExit(f"--nodes {args.nodes} needs {want} descriptors; the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if PIN:
        os.sched_setaffinity(0, {LOAD_CORE})
    rows, failures = [], []
    with tempfile.TemporaryDirectory(prefix="bschub-restart-") as work:
        try:
            pki = os.path.join(work, "pki")
            certs.make_tool_pki(pki)
            floor = ecc_floor(args.build)
            full_floor = floor["sign"] + floor["verify"] + floor["ecdhe"]
            if args.no_known_certificates:
                print("hub: --known-certificates 0 (the tool's nodes share one certificate)")
            print(f"ECC on core {HUB_CORE} (CPU time): sign {floor['sign']} us, verify "
                  f"{floor['verify']} us, ECDHE {floor['ecdhe']} us", flush=True)
            if hub_has_option(args.build, "--ticket-key-file"):
                key = os.path.join(work, "ticket.key")
                with open(key, "wb") as f:
                    f.write(os.urandom(80))
                os.chmod(key, 0o600)
                print("== with --ticket-key-file (same key across the restart)", flush=True)
                rows += restart_round(args, pki, work, key, "key file")
            else:
                print("== with --ticket-key-file: skipped, this bschub has no such option", flush=True)
            print("== without a key file (new ticket key after the restart)", flush=True)
            rows += restart_round(args, pki, work, None, "no key file")
        finally:
            kill_all()
    print(f"\nfloor: full handshake (sign + 2 verify + ECDHE) {full_floor + floor['verify']} us, "
          f"targets: full <= 1.5 x (sign + verify + ECDHE) = {1.5 * full_floor:.0f} us, "
          f"resumed <= 1.5 x ECDHE = {1.5 * floor['ecdhe']:.0f} us")
    for r in rows:
        if r["failed"] or r["load_exit"] != 0:
            failures.append(f"{r['storm']}: {r['failed']} failed, bschub-load exit {r['load_exit']}")
        resumed_storm = r["resumed_fraction"] >= 0.5
        limit = 1.5 * (floor["ecdhe"] if resumed_storm else full_floor)
        ok = r["hub_us_per_conn"] <= limit
        r["target_us"] = round(limit)
        r["within_target"] = ok
        print(f"  {r['storm']:28} {r['hub_us_per_conn']:6} us/conn  target <= {limit:.0f} "
              f"({'resumed' if resumed_storm else 'full'}): {'ok' if ok else 'MISSED'}")
        if not ok:
            failures.append(f"{r['storm']}: {r['hub_us_per_conn']} us > {limit:.0f} us")
        if r["storm"] == "key file: after restart" and r["resumed_fraction"] < 0.95:
            failures.append(f"{r['storm']}: only {r['resumed_fraction']:.1%} resumed (< 95%)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"floor_us": floor, "rows": rows, "failures": failures}, f, indent=1)
    for m in failures:
        print("MISSED: " + m)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
