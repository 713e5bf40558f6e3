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
every process is bounded in time and killed when this script ends (PR_SET_PDEATHSIG too)."""
import argparse
import ctypes
import datetime
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree from a bench run
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from lib import certs, hubproc, procstat  # noqa: E402
NCPU = os.cpu_count() or 1
PIN = NCPU >= 2

# Floors (docs/benchmarks.md, "The floor"). 100 B: measured ~1.5 us per forwarded frame (AES-GCM
# open+seal, batched read/write). Other sizes: 2 x (0.08 + 0.0035 * S) us of AES-GCM (one open,
# one seal) + ~1 us of syscalls => 1400 B: ~10.96 us.
def mean_size(size):
    """NPDU size of a row: N, or the mean of a MIN-MAX range."""
    if isinstance(size, str) and "-" in size:
        lo, hi = (int(x) for x in size.split("-"))
        return (lo + hi) / 2
    return int(size)


def frame_floor_us(size):
    size = mean_size(size)
    if size == 100:
        return 1.5
    return 2 * (0.08 + 0.0035 * size) + 1.0


HANDSHAKE_FLOOR_MS = 3.2  # mutual-TLS 1.3 server handshake, mbedTLS ECC alone
_children = set()
_libc = ctypes.CDLL("libc.so.6", use_errno=True)


def _child_setup():
    _libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: die with this script, whatever happens


def spawn(cmd, **kw):
    p = subprocess.Popen(cmd, preexec_fn=_child_setup, **kw)
    _children.add(p)
    return p


def kill_all():
    for p in list(_children):
        try:
            if p.poll() is None:
                p.kill()
        except Exception:
            pass


def _on_signal(signum, _frame):
    kill_all()
    raise SystemExit(128 + signum)


def proc_cpu(pid):
    try:
        return procstat.cpu_seconds(pid)
    except (OSError, IndexError):
        return None


def sys_jiffies():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v[:8]), idle  # user nice system idle iowait irq softirq steal


def self_cpu():
    t = os.times()
    return t.user + t.system


def other_cores(seconds=1.0):
    """Cores busy with other processes over `seconds` (nothing of ours runs meanwhile)."""
    t0, i0 = sys_jiffies()
    c0 = self_cpu()
    time.sleep(seconds)
    t1, i1 = sys_jiffies()
    c1 = self_cpu()
    tick = os.sysconf("SC_CLK_TCK")
    busy = ((t1 - t0) - (i1 - i0)) / tick - (c1 - c0)
    return max(0.0, busy / seconds)


_wait_budget = [180.0]  # seconds of waiting for a quiet machine, over the whole report


def wait_quiet(log, max_wait=30.0, threshold=0.6):
    """Before a run: wait (bounded) until other processes use < threshold cores."""
    t0 = time.monotonic()
    max_wait = min(max_wait, _wait_budget[0])
    while True:
        busy = other_cores(1.0)
        if busy < threshold or time.monotonic() - t0 > max_wait:
            waited = time.monotonic() - t0 - 1.0
            _wait_budget[0] = max(0.0, _wait_budget[0] - max(0.0, waited))
            if busy >= threshold:
                log(f"  machine still busy ({busy:.2f} cores used by others) after {waited:.0f}s; running anyway")
            return busy, waited
        log(f"  others use {busy:.2f} cores; waiting")
        time.sleep(4)


class Hub:
    def __init__(self, build, workers, tls, pki, expect_nodes, extra_args=()):
        self.expect = expect_nodes
        self.connected = 0
        self.all_connected = threading.Event()
        self.snap = None  # (monotonic, hub cpu, load cpu, sys jiffies, self cpu) when all connected
        self.snap_end = None  # the same at the first node_disconnected after that
        self.load_pid = None
        self.notable = []  # warn/error lines
        self.max_rss_after_connect = 0
        self.last_rss_held = 0  # the last sample with every node still connected
        self.pid = None
        files = (f"{pki}/hub.pem", f"{pki}/hub.key", f"{pki}/ca.pem") if tls else (None,) * 3
        # Its stderr lines go to on_line() as they come (from hubproc's reader thread).
        self.hub = hubproc.HubProcess(
            os.path.join(build, "bschub"), *files, tls=tls, log_level="info",
            extra_args=["--workers", str(workers), *extra_args], shutdown_timeout=None,
            on_stderr=self.on_line,
            wrapper=["taskset", "-c", "0"] if PIN else (), preexec_fn=_child_setup)
        self.cmd = self.hub.argv
        self.hub.start(timeout=10)  # HubStartError if it does not start
        _children.add(self.hub.proc)
        self.uri = self.hub.uri
        self.pid = self.hub.proc.pid
        self._done = threading.Event()
        self._sampler = threading.Thread(target=self._sample_rss, daemon=True)
        self._sampler.start()

    def _snapshot(self):
        lp = self.load_pid
        return (time.monotonic(), proc_cpu(self.pid), proc_cpu(lp) if lp else None, sys_jiffies(), self_cpu())

    def on_line(self, line):
        if "event=node_connected" in line:
            self.connected += 1
            if self.connected == self.expect and self.snap is None:
                self.snap = self._snapshot()
                self.all_connected.set()
        elif "event=node_disconnected" in line:
            if self.snap is not None and self.snap_end is None:
                self.snap_end = self._snapshot()
        elif "level=warn" in line or "level=error" in line:
            if len(self.notable) < 2000:
                self.notable.append(line.strip())

    def _sample_rss(self):
        while not self._done.wait(0.1):
            if self.all_connected.is_set() and self.snap_end is None:
                rss = procstat.rss_kb(self.pid)
                self.max_rss_after_connect = max(self.max_rss_after_connect, rss)
                self.last_rss_held = rss

    def stop(self):
        self._done.set()
        hwm = procstat.peak_rss_kb(self.pid)
        clean = self.hub.stop(timeout=15, check=False) is not None  # killed after 15 s
        _children.discard(self.hub.proc)
        counters = dict(hubproc.stopped_counters(self.hub, required=False))
        return hwm, counters, clean, self.hub.proc.returncode


def run_load(cmd, timeout, hub):
    out = tempfile.TemporaryFile(mode="w+")
    p = spawn(cmd, stdout=out, stderr=subprocess.STDOUT)
    hub.load_pid = p.pid
    deadline = time.monotonic() + timeout
    interrupted = False
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            if not interrupted:
                p.send_signal(signal.SIGINT)  # stops early, still prints the summary
                interrupted = True
                deadline = time.monotonic() + 15
            else:
                p.kill()
        time.sleep(0.01)
    p.returncode = os.waitstatus_to_exitcode(status)
    _children.discard(p)
    out.seek(0)
    text = out.read()
    out.close()
    return p.returncode, ru.ru_utime + ru.ru_stime, text, interrupted


def run(spec, args, pki, log):
    """spec: mode, workers, tls, nodes, size, inflight, duration, label"""
    mode, workers, tls, nodes = spec["mode"], spec["workers"], spec["tls"], spec["nodes"]
    other_before, waited = wait_quiet(log)
    hub = Hub(args.build, workers, tls, pki, nodes, spec.get("hub_args", ()))
    try:
        time.sleep(0.3)
        rss_before = procstat.rss_kb(hub.pid)
        jsf = tempfile.NamedTemporaryFile(suffix=".json", delete=False)
        jsf.close()
        cmd = [os.path.join(args.build, "bschub-load"), "--uri", hub.uri, "--mode", mode,
               "--nodes", str(nodes), "--quiet", "--json", jsf.name]
        if mode == "echo":
            cmd += ["--inflight", str(spec["inflight"]), "--size", str(spec["size"]),
                    "--duration", str(spec["duration"])]
        elif mode == "broadcast":
            cmd += ["--senders", str(spec.get("senders", 1)), "--size", str(spec["size"]),
                    "--duration", str(spec["duration"])]
        elif mode == "idle":
            cmd += ["--duration", str(spec["duration"])]
        if tls:
            cmd += ["--cert", f"{pki}/node1.pem", "--key", f"{pki}/node1.key", "--ca", f"{pki}/ca.pem"]
            if spec.get("suite"):
                cmd += ["--ciphersuites", spec["suite"]]
        cmd += spec.get("load_args", [])
        if PIN:
            cmd = ["taskset", "-c", "1"] + cmd
        timeout = spec.get("duration", 0) + 30 + nodes / 40.0
        c0, j0, s0, t0 = proc_cpu(hub.pid), sys_jiffies(), self_cpu(), time.monotonic()
        rc, load_cpu_total, text, interrupted = run_load(cmd, timeout, hub)
        t1, c1, j1, s1 = time.monotonic(), proc_cpu(hub.pid), sys_jiffies(), self_cpu()
        try:
            with open(jsf.name) as f:
                res = json.load(f)
        except (OSError, ValueError):
            res = {}
        os.unlink(jsf.name)
    finally:
        hwm, counters, clean_stop, hub_rc = hub.stop()
    snap = hub.snap
    tick = os.sysconf("SC_CLK_TCK")
    row = dict(spec)
    row.update({
        "hub_cmd": hub.cmd, "load_cmd": cmd, "load_exit": rc, "load_interrupted": interrupted,
        "other_cores_before": round(other_before, 2), "waited_s": round(max(0, waited), 1),
        "hub_stopped_cleanly": clean_stop and hub_rc == 0, "hub_counters": counters,
        "peak_rss_kb": hwm, "rss_before_kb": rss_before, "all_nodes_seen_by_hub": snap is not None,
        "window_end": "first node_disconnected" if (mode != "connect" and snap and hub.snap_end) else
                      ("last node_connected" if mode == "connect" and snap else "load exit"),
    })
    # window: traffic modes -> from the hub's last node_connected to its first node_disconnected
    # (traffic and drain only; no handshakes, no disconnects); connect -> from load start to the
    # last node_connected.
    if mode == "connect":
        if snap:
            wa, wb = (t0, c0, None, j0, s0), snap
        else:
            wa, wb = (t0, c0, None, j0, s0), (t1, c1, load_cpu_total, j1, s1)
        load_cpu = (wb[2] if wb[2] is not None else load_cpu_total)
    else:
        wa = snap if snap else (t0, c0, 0.0, j0, s0)
        se = hub.snap_end
        if snap and se and se[1] is not None and se[2] is not None:
            wb = se
        else:
            wb = (t1, c1, load_cpu_total, j1, s1)
        load_cpu = wb[2] - (wa[2] or 0.0)
    wall = max(1e-6, wb[0] - wa[0])
    hub_cpu = (wb[1] or 0) - (wa[1] or 0)
    sysbusy = ((wb[3][0] - wa[3][0]) - (wb[3][1] - wa[3][1])) / tick
    others = max(0.0, sysbusy - hub_cpu - load_cpu - (wb[4] - wa[4])) / wall
    frames = int(counters.get("unicast_forwarded", 0)) + int(counters.get("broadcast_copies", 0))
    drops = {k: int(v) for k, v in counters.items() if k.startswith("drop_") and int(v)}
    lat = res.get("latency_us", {})
    conn = res.get("connect", {})
    cnt = res.get("counters", {})
    row.update({
        "window_s": round(wall, 3), "hub_cpu_s": round(hub_cpu, 3), "hub_busy": round(hub_cpu / wall, 3),
        "load_cpu_s": round(load_cpu, 3), "load_busy": round(load_cpu / wall, 3),
        "other_cores_during": round(others, 2),
        "hub_frames": frames, "us_per_frame": round(hub_cpu * 1e6 / frames, 3) if frames else None,
        "rate": res.get("msgs_per_s", 0.0), "latency_kind": res.get("latency_kind"),
        "latency_us": lat, "p50_us": lat.get("p50"), "p99_us": lat.get("p99"),
        "hub_drops": sum(drops.values()), "hub_drop_detail": drops,
        "lost": res.get("lost"), "dup": res.get("dup"), "corrupt": res.get("corrupt"),
        "reorder": res.get("reorder"), "errors": res.get("errors"),
        "misrouted": res.get("misrouted"),
        "connected": conn.get("connected"), "connect_failed": conn.get("failed"),
        "all_connected_s": conn.get("all_connected_s"), "handshakes_per_s": conn.get("handshakes_per_s"),
        "bc_timeouts": cnt.get("bc_timeouts"), "conn_lost": cnt.get("conn_lost"),
        "disc_forced": cnt.get("disc_forced"), "load_ok": res.get("ok"),
        "hub_notable": hub.notable[:20], "hub_notable_count": len(hub.notable),
        "max_rss_after_connect_kb": hub.max_rss_after_connect,
        "load_summary": [l for l in text.splitlines() if l.strip()][-8:],
    })
    if mode in ("echo", "broadcast") and tls:
        fl = frame_floor_us(spec["size"])
        row["floor_us"] = round(fl, 2)
        row["x_floor"] = round(row["us_per_frame"] / fl, 2) if row["us_per_frame"] else None
    if mode == "connect":
        n = conn.get("connected") or 0
        row["hub_ms_per_handshake"] = round(hub_cpu * 1e3 / n, 3) if n else None
        row["x_floor"] = round(row["hub_ms_per_handshake"] / HANDSHAKE_FLOOR_MS, 2) if n else None
        row["floor_us"] = HANDSHAKE_FLOOR_MS * 1000
    if mode == "idle":
        row["kb_per_node_peak"] = round((hwm - rss_before) / nodes, 2)
        row["kb_per_node_steady"] = round((hub.max_rss_after_connect - rss_before) / nodes, 2)
        row["kb_per_node_end"] = round((hub.last_rss_held - rss_before) / nodes, 2)
        hb = int(counters.get("heartbeats_answered", 0))
        row["heartbeats"] = hb
        row["us_per_heartbeat"] = round(hub_cpu * 1e6 / hb, 1) if hb else None
    return row


# ---------------------------------------------------------------- report

def fmt(v, nd=0, suffix=""):
    if v is None:
        return "–"
    if isinstance(v, float) and nd == 0:
        return f"{v:,.0f}{suffix}"
    if isinstance(v, (int,)) and nd == 0:
        return f"{v:,}{suffix}"
    return f"{v:,.{nd}f}{suffix}"


def fmt_lat(us):
    if us is None:
        return "–"
    return f"{us / 1000:.2f} ms" if us >= 1000 else f"{us:.0f} us"


def loss_cell(r):
    parts = [r.get(k) or 0 for k in ("lost", "dup", "corrupt", "reorder")]
    s = "/".join(str(x) for x in parts)
    extra = []
    if r.get("errors"):
        extra.append(f"err {r['errors']}")
    if r.get("connect_failed"):
        extra.append(f"conn-fail {r['connect_failed']}")
    if r.get("conn_lost"):
        extra.append(f"conn-lost {r['conn_lost']}")
    if r.get("bc_timeouts"):
        extra.append(f"bc-timeouts {r['bc_timeouts']}")
    if r["load_exit"] != 0:
        extra.append(f"**exit {r['load_exit']}**")
    return s + ("; " + ", ".join(extra) if extra else "")


def drops_cell(r):
    if not r["hub_drops"]:
        return "0"
    return f"**{r['hub_drops']:,}** (" + ", ".join(f"{k}={v}" for k, v in r["hub_drop_detail"].items()) + ")"


def suite_cell(r):
    """The TLS suite a row negotiated: the hub's default pick (ChaCha20, which bschub-load
    offers) unless the row made the load tool offer only one."""
    if not r["tls"]:
        return "–"
    return r.get("suite") or "chacha20"


def notes_for(r):
    n = []
    contended = r["other_cores_during"] >= 0.3
    if r["mode"] in ("echo", "broadcast", "connect") and r["hub_busy"] < 0.8:
        if contended:
            n.append(f"**contended**: hub only {r['hub_busy']:.0%} busy while other processes used "
                     f"{r['other_cores_during']:.2f} cores: rates not representative")
        else:
            if "--busy-poll" in r.get("load_args", []):
                n.append(f"**window-bound**: hub only {r['hub_busy']:.0%} busy with the load tool polling "
                         "(bschub-load --busy-poll): the frames in flight travel as a convoy that the hub "
                         "and the tool process in turn")
                why = None
            elif r["load_busy"] >= 0.8:
                why = f"load tool saturated, {r['load_busy']:.0%} busy"
            elif r["mode"] == "connect":
                why = (f"load tool itself only {r['load_busy']:.0%} busy: neither side saturates its core "
                       "at 64 concurrent handshakes")
            else:
                why = (f"load tool itself only {r['load_busy']:.0%} busy: its in-flight window and wake-ups "
                       "limit the rate")
            if why:
                n.append(f"**load-bound**: hub only {r['hub_busy']:.0%} busy, the load tool is the bottleneck ({why})")
    elif r["other_cores_during"] > 0.15:
        n.append(f"others used {r['other_cores_during']:.2f} cores meanwhile")
    if r["load_exit"] != 0:
        n.append("**FLAG: bschub-load exit %d**" % r["load_exit"])
    if not r["all_nodes_seen_by_hub"]:
        n.append("**not all nodes connected** (hub saw fewer node_connected)")
    if not r["hub_stopped_cleanly"]:
        n.append("**hub did not stop cleanly on SIGTERM**")
    if r["hub_notable_count"]:
        n.append(f"hub logged {r['hub_notable_count']} warn/error lines")
    return "; ".join(n)


def write_report(rows, meta, out, plots):
    L = []
    L.append("# bschub benchmark report\n")
    L.append(f"- Date: {meta['date']} (total runtime {meta['runtime_s']:.0f} s)")
    L.append(f"- Machine: {meta['cpu_model']}, {meta['ncpu']} CPUs, {meta['ram_gib']:.1f} GiB RAM, "
             f"{meta['kernel']}; {meta['tls_lib']}")
    L.append(f"- Commit: `{meta['commit']}`{' (working tree has uncommitted changes: ' + meta['dirty'] + ')' if meta['dirty'] else ''}; "
             f"binaries: `build/bschub` built {meta['bin_mtime']} ({meta['buildtype']}; sha256 {meta['bin_sha']['bschub']}), "
             f"`build/bschub-load` sha256 {meta['bin_sha']['bschub-load']}")
    L.append(f"- Pinning: {'hub (all workers) on core 0 (`taskset -c 0`), bschub-load and this script on core 1 (`taskset -c 1`)' if PIN else 'none (fewer than 2 CPUs)'}. "
             "Everything on 127.0.0.1. A fresh hub per run; a 1 s echo warm-up run (not reported) precedes the matrix.")
    L.append(f"- How busy the machine was: load average {meta['load_start']} at start, {meta['load_end']} at end "
             f"(these include this report's own runs); before each run the script measures for 1 s how many cores "
             f"other processes use and waits (max 30 s per run, 180 s in all) while that is above 0.6; max seen before a run "
             f"{meta['max_other_before']:.2f} cores, max during a run {meta['max_other_during']:.2f} cores "
             f"(system CPU minus hub, load tool and this script), total waited {meta['waited_s']:.0f} s.")
    L.append("- Command: `" + meta["argv"] + "`; per run (PKI from `tools/make-certs.sh $PKI 1`, port chosen by the hub):\n")
    L.append("```")
    seen = set()
    for r in rows:
        h = " ".join(shlex.quote(x) for x in r["hub_cmd"]).replace(meta["pki"], "$PKI")
        l = " ".join(shlex.quote(x) for x in r["load_cmd"]).replace(meta["pki"], "$PKI")
        l = re.sub(r"--uri \S+", "--uri $URI", l)
        l = re.sub(r"--json \S+", "--json $OUT.json", l)
        h = h.replace(os.path.join(ROOT, ""), "")
        l = l.replace(os.path.join(ROOT, ""), "")
        key = (h, l)
        if key in seen:
            continue
        seen.add(key)
        L.append(f"# {r['label']}")
        L.append(f"{h} &   # -> URI")
        L.append(l)
    L.append("```\n")
    L.append("Definitions. *Hub CPU*: the hub's utime+stime (/proc/PID/stat) over the load phase: for "
             "echo/broadcast/idle from the moment the hub has logged `node_connected` for every node until "
             "it logs the first `node_disconnected` (traffic and drain; TLS handshakes and disconnects "
             "excluded); for the connect storm from the start of bschub-load until the last "
             "`node_connected`. *Busy* = CPU seconds / wall seconds of that window (100% = one core). "
             "*Load busy*: the same for bschub-load over the same window. *Others*: the machine's busy CPU "
             "(/proc/stat) over the window minus hub, load tool and this script. *Frames* = hub counters "
             "`unicast_forwarded + broadcast_copies` from its `event=stopped` log line. *us/frame* = hub "
             "CPU / frames. *frames/s* = bschub-load's delivered msgs/s. *Drops* = sum of the hub's "
             "`drop_*` counters. *Loss* = bschub-load lost/dup/corrupt/reorder. *Peak RSS* = hub VmHWM at "
             "the end of the run. Latency: echo = round trip (send to echo received back, through the hub "
             "twice), broadcast = send to each copy's receipt.\n")
    L.append("Floors (`docs/benchmarks.md`, The floor; mbedTLS AES-GCM ≈0.08 us/record + 0.0035 us/byte, "
             "each way): 100 B frame: **1.5 us** (measured there, batched syscalls); 1400 B frame: "
             "**2 × (0.08 + 0.0035 × 1400) + 1 ≈ 10.96 us** (one open + one seal + ~1 us of syscalls). "
             "Broadcast copies are compared with the same 1.5 us as a reference only: a copy needs one seal "
             "(≈0.43 us) but also its own write() to a different socket, which no batching can share, and on "
             "loopback a write also carries the receiving TCP stack's work (≈4.7 us per read+write pair in "
             "the limits README). Plaintext rows have no cipher floor (–). Handshakes: **3.2 ms** of mbedTLS "
             "ECC per mutual-TLS 1.3 server handshake (≈310/s per core).\n")

    def lat_cells(r):
        return fmt_lat(r["p50_us"]), fmt_lat(r["p99_us"])

    echo = [r for r in rows if r["mode"] == "echo"]
    if echo:
        L.append("## Echo (%s s; 16 nodes = 8 pairs with 16 in flight per pair, unless the row says otherwise)\n"
                 % echo[0]["duration"])
        L.append("| TLS | suite | NPDU | workers | nodes x in flight | frames/s | hub frames | hub CPU s | hub busy | load busy | others | hub us/frame | floor us | x floor | p50 RTT | p99 RTT | peak RSS | drops | loss l/d/c/r | notes |")
        L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for r in echo:
            p50, p99 = lat_cells(r)
            L.append(f"| {'TLS' if r['tls'] else 'plain'} | {suite_cell(r)} | {r['size']} B | {r['workers']} | "
                     f"{r['nodes']} x {r['inflight']} | {fmt(r['rate'])} | "
                     f"{fmt(r['hub_frames'])} | {r['hub_cpu_s']:.2f} | {r['hub_busy']:.0%} | {r['load_busy']:.0%} | "
                     f"{r['other_cores_during']:.2f} | {fmt(r['us_per_frame'], 2)} | {fmt(r.get('floor_us'), 2)} | {fmt(r.get('x_floor'), 2)} | "
                     f"{p50} | {p99} | {r['peak_rss_kb'] / 1024:.1f} MB | {drops_cell(r)} | {loss_cell(r)} | {notes_for(r)} |")
        # TLS overhead vs cipher floor
        L.append("")
        lines = []
        for size in sorted({r["size"] for r in echo if isinstance(r["size"], int)}):
            for w in sorted({r["workers"] for r in echo}):
                t = [r for r in echo if r["size"] == size and r["workers"] == w and r["tls"] and not r.get("suite")]
                p = [r for r in echo if r["size"] == size and r["workers"] == w and not r["tls"]]
                if t and p and t[0]["us_per_frame"] and p[0]["us_per_frame"]:
                    d = t[0]["us_per_frame"] - p[0]["us_per_frame"]
                    cf = 2 * (0.08 + 0.0035 * size)
                    lines.append(f"{size} B, {w} worker(s): TLS − plaintext = {d:.2f} us/frame vs AES-GCM floor "
                                 f"2 × (0.08 + 0.0035 × {size}) = {cf:.2f} us ({d / cf:.2f}x)")
        if lines:
            L.append("TLS share of the per-frame cost (hub us/frame with TLS minus without): " + "; ".join(lines) + ".\n")

    bc = [r for r in rows if r["mode"] == "broadcast"]
    if bc:
        L.append("## Broadcast (TLS, 100 B NPDU, %s s; each sender has one broadcast in flight)\n" % bc[0]["duration"])
        L.append("| nodes | senders | workers | copies/s | hub copies | hub CPU s | hub busy | load busy | others | hub us/copy | x 1.5 us (ref.) | p50 | p99 | peak RSS | drops | loss l/d/c/r | notes |")
        L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for r in bc:
            p50, p99 = lat_cells(r)
            L.append(f"| {fmt(r['nodes'])} | {r.get('senders', 1)} | {r['workers']} | {fmt(r['rate'])} | {fmt(r['hub_frames'])} | "
                     f"{r['hub_cpu_s']:.2f} | {r['hub_busy']:.0%} | {r['load_busy']:.0%} | {r['other_cores_during']:.2f} | "
                     f"{fmt(r['us_per_frame'], 2)} | "
                     f"{fmt(r.get('x_floor'), 2)} | {p50} | {p99} | {r['peak_rss_kb'] / 1024:.1f} MB | "
                     f"{drops_cell(r)} | {loss_cell(r)} | {notes_for(r)} |")
        L.append("")

    cs = [r for r in rows if r["mode"] == "connect"]
    if cs:
        L.append(f"## Connect storm (TLS 1.3 mutual auth, {cs[0]['nodes']:,} nodes, 64 concurrent handshakes)\n")
        L.append("| workers | handshakes/s | all connected after | hub CPU s | hub busy | load busy | others | hub ms/handshake | x 3.2 ms | handshake p50 | p99 | peak RSS | failed | notes |")
        L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for r in cs:
            p50, p99 = lat_cells(r)
            L.append(f"| {r['workers']} | {fmt(r['handshakes_per_s'])} | {fmt(r['all_connected_s'], 2, ' s')} | "
                     f"{r['hub_cpu_s']:.2f} | {r['hub_busy']:.0%} | {r['load_busy']:.0%} | "
                     f"{r['other_cores_during']:.2f} | {fmt(r.get('hub_ms_per_handshake'), 2)} | {fmt(r.get('x_floor'), 2)} | {p50} | {p99} | "
                     f"{r['peak_rss_kb'] / 1024:.1f} MB | {r.get('connect_failed') or 0} | {notes_for(r)} |")
        L.append("\nHandshake latency = TCP connect to Connect-Accept, with 64 handshakes queued at once, so "
                 "it is mostly queueing. Both workers share core 0, so workers N cannot run handshakes in parallel here.\n")

    idle = [r for r in rows if r["mode"] == "idle"]
    if idle:
        L.append("## Idle (nodes connected and held, Heartbeat-Request every 2 s per node)\n")
        L.append("| TLS | nodes | workers | hold | RSS before | peak RSS (VmHWM) | max RSS while held | KB/node (peak) | KB/node (held, max) | KB/node (end of hold) | all connected after | hub CPU while held | hub us/heartbeat | heartbeat RTT p50/p99 | loss l/d/c/r | notes |")
        L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for r in idle:
            L.append(f"| {'TLS' if r['tls'] else 'plain'} | {fmt(r['nodes'])} | {r['workers']} | {r['duration']} s | "
                     f"{r['rss_before_kb'] / 1024:.1f} MB | {r['peak_rss_kb'] / 1024:.1f} MB | "
                     f"{r['max_rss_after_connect_kb'] / 1024:.1f} MB | {fmt(r['kb_per_node_peak'], 1)} | "
                     f"{fmt(r['kb_per_node_steady'], 1)} | {fmt(r.get('kb_per_node_end'), 1)} | "
                     f"{fmt(r['all_connected_s'], 2, ' s')} | "
                     f"{r['hub_busy']:.1%} of a core | {fmt(r.get('us_per_heartbeat'), 1)} | {fmt_lat(r['p50_us'])} / {fmt_lat(r['p99_us'])} | "
                     f"{loss_cell(r)} | {notes_for(r)} |")
        L.append("\nThe hub runs with `--idle-trim 1`: a node quiet for 1 s has its buffers' pages released "
                 "(the default is 30 s; nodes here send a Heartbeat-Request every 2 s, and a trimmed node "
                 "stays trimmed through heartbeats). KB/node (peak) = (VmHWM at the end − VmRSS of the idle "
                 "hub before) / nodes, which includes transient handshake memory; KB/node (held, max) uses the "
                 "highest VmRSS sampled (every 100 ms) while all nodes were connected, which is before the "
                 "first trims; KB/node (end of hold) the last such sample.\n")

    anomalies = []
    for r in rows:
        if r["hub_notable_count"]:
            uniq = []
            for l in r["hub_notable"]:
                ev = re.sub(r"^ts=\S+ ", "", l)
                ev = re.sub(r"peer=\S+|vmac=\S+|uuid=\S+", "", ev)
                if ev not in uniq:
                    uniq.append(ev)
            anomalies.append(f"- {r['label']}: hub logged {r['hub_notable_count']} warn/error lines, e.g. "
                             + "; ".join(f"`{u[:200]}`" for u in uniq[:3]))
        if r["load_exit"] != 0:
            anomalies.append(f"- {r['label']}: bschub-load exit {r['load_exit']}: "
                             + " / ".join(f"`{s.strip()[:300]}`" for s in r["load_summary"][:3]))
    obs = []
    b100 = {r["workers"]: r for r in bc if r["nodes"] == 100 and r.get("senders", 1) == 1}
    b1k = {r["workers"]: r for r in bc if r["nodes"] == 1000 and r.get("senders", 1) == 1}
    bmany = {r["workers"]: r for r in bc if r["nodes"] == 1000 and r.get("senders", 1) > 1}
    for w in sorted(set(b100) & set(b1k)):
        a, b = b100[w]["us_per_frame"], b1k[w]["us_per_frame"]
        if a and b:
            obs.append(f"- Broadcast, one sender, {w} worker(s): hub CPU per delivered copy {a:.2f} us to 100 nodes, "
                       f"{b:.2f} us to 1,000 nodes ({b / a:.2f}x); p50 send-to-receipt {fmt_lat(b100[w]['p50_us'])} "
                       f"vs {fmt_lat(b1k[w]['p50_us'])} (one round of {b1k[w]['nodes'] - 1:,} copies takes "
                       f"{(b1k[w]['nodes'] - 1) / max(1.0, b1k[w]['rate']) * 1000:.1f} ms at the measured copies/s).")
    for w in sorted(set(b1k) & set(bmany)):
        a, b = b1k[w]["us_per_frame"], bmany[w]["us_per_frame"]
        if a and b:
            obs.append(f"- Broadcast to 1,000 nodes, {w} worker(s): {b:.2f} us per copy with {bmany[w]['senders']} "
                       f"senders against {a:.2f} us with one: with many broadcasts in flight a node's copies share "
                       f"one TLS record and one write per loop iteration; with one, every copy pays its own.")
    for r in cs:
        if r.get("hub_ms_per_handshake"):
            obs.append(f"- Connect storm, {r['workers']} worker(s): {fmt(r['handshakes_per_s'])} handshakes/s, "
                       f"{r['hub_ms_per_handshake']:.2f} ms hub CPU per handshake = {r['x_floor']:.2f}x the 3.2 ms "
                       f"ECC floor; hub {r['hub_busy']:.0%} busy, load tool {r['load_busy']:.0%} busy.")
    it = [r for r in idle if r["tls"]]
    ip = [r for r in idle if not r["tls"]]
    if it and ip:
        d = it[0]["kb_per_node_end"] - ip[0]["kb_per_node_end"]
        obs.append(f"- Idle (trimmed): {it[0]['kb_per_node_end']:.1f} KB per TLS connection held vs "
                   f"{ip[0]['kb_per_node_end']:.1f} KB plaintext, so ≈{d:.0f} KB is TLS state; at the default "
                   f"--max-connections 10,000 that is ≈{it[0]['kb_per_node_end'] * 10000 / 1024 / 1024:.2f} GiB "
                   f"of hub RSS. Connecting {it[0]['nodes']:,} TLS nodes took {fmt(it[0]['all_connected_s'], 1, ' s')}.")
    obs.append("- Single 3 s runs on a shared VM: the same row differed by up to ~1.7x in us/frame "
               "across three runs of this report on a quiet machine (e.g. TLS 100 B, 2 workers: 2.0-3.4 us); "
               "compare rows within one report, and repeat a run before drawing a conclusion from one row.")
    L.append("## Observations\n")
    L.extend(obs)
    L.append("")
    L.append("## Anomalies\n")
    L.extend(anomalies or ["- none: every run exited 0, no hub warn/error lines."])
    L.append("")
    if plots:
        L.append("## Plots\n")
        for p in plots:
            L.append(f"![{p}]({p})\n")
    else:
        L.append("Plots skipped: python3-matplotlib is not available.\n")
    tmp = os.path.join(out, "report.md.tmp")
    with open(tmp, "w") as f:
        f.write("\n".join(L) + "\n")
    os.replace(tmp, os.path.join(out, "report.md"))


def make_plots(rows, out, log):
    try:
        return _make_plots(rows, out, log)
    except Exception as e:  # plots are optional: never lose the report for them
        log(f"plots failed ({e!r}); report written without them")
        return []


def _make_plots(rows, out, log):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib not available: skipping plots (install python3-matplotlib)")
        return []
    made = []
    # the workers x size matrix only (not the light-load row, not a row with a forced suite)
    echo = [r for r in rows if r["mode"] == "echo" and isinstance(r["size"], int) and not r.get("suite")]
    if echo:
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.4), gridspec_kw={"wspace": 0.65})
        for tls in (True, False):
            for size in sorted({r["size"] for r in echo if isinstance(r["size"], int)}):
                rs = sorted([r for r in echo if r["tls"] == tls and r["size"] == size], key=lambda r: r["workers"])
                if not rs:
                    continue
                lab = f"{'TLS' if tls else 'plain'} {size} B"
                st = "-" if tls else "--"
                a1.plot([r["workers"] for r in rs], [r["rate"] for r in rs], st, marker="o", label=lab)
                a2.plot([r["workers"] for r in rs], [r["us_per_frame"] or 0 for r in rs], st, marker="o", label=lab)
        ws = sorted({r["workers"] for r in echo})
        for a in (a1, a2):
            a.set_xticks(ws)
            a.set_xlabel("hub workers (all pinned to core 0)")
            a.grid(alpha=0.3)
        a1.set_yscale("log")
        from matplotlib.ticker import FuncFormatter
        kfmt = FuncFormatter(lambda v, _: f"{v / 1000:.0f}k")
        a1.yaxis.set_major_formatter(kfmt)
        a1.yaxis.set_minor_formatter(kfmt)
        a1.tick_params(axis="y", which="minor", labelsize=7)
        a1.set_ylabel("frames/s forwarded (echo, 16 nodes)")
        a1.set_title("Throughput vs workers")
        a2.set_ylabel("hub CPU us per forwarded frame")
        a2.set_title("Hub cost per frame")
        for size in sorted({r["size"] for r in echo if isinstance(r["size"], int)}):
            a2.axhline(frame_floor_us(size), color="gray", lw=0.8, ls=":")
            a2.annotate(f"TLS floor {size} B", (ws[0], frame_floor_us(size)), fontsize=7, color="gray",
                        textcoords="offset points", xytext=(2, 2))
        a1.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        fig.savefig(os.path.join(out, "throughput_vs_workers.png"), dpi=110, bbox_inches="tight")
        plt.close(fig)
        made.append("throughput_vs_workers.png")

        fig, (ax, at) = plt.subplots(1, 2, figsize=(12, 5))
        colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        combos = sorted({(r["size"], r["workers"]) for r in echo})
        for r in echo:
            lat = r["latency_us"]
            if not lat:
                continue
            c = colors[combos.index((r["size"], r["workers"])) % len(colors)]
            st = "-" if r["tls"] else "--"
            lab = f"{'TLS' if r['tls'] else 'plain'} {r['size']} B, {r['workers']}w"
            pts = [(lat.get("min"), 0.0), (lat.get("p50"), 0.5), (lat.get("p90"), 0.9), (lat.get("p99"), 0.99),
                   (lat.get("p999"), 0.999), (lat.get("max"), 1.0)]
            pts = [(x / 1000.0, y) for x, y in pts if x is not None]
            ax.plot([p[0] for p in pts], [p[1] for p in pts], st, color=c, marker=".", label=lab)
            n = max(1, lat.get("count") or 1)
            tail = [(lat.get("p50"), 0.5), (lat.get("p90"), 0.1), (lat.get("p99"), 0.01),
                    (lat.get("p999"), 0.001), (lat.get("max"), 1.0 / n)]
            tail = [(x / 1000.0, y) for x, y in tail if x is not None]
            at.plot([p[0] for p in tail], [p[1] for p in tail], st, color=c, marker=".", label=lab)
        for a in (ax, at):
            a.set_xscale("log")
            a.set_xlabel("round-trip latency, ms (log)")
            a.grid(alpha=0.3, which="both")
        ax.set_ylabel("fraction of round trips <= x")
        ax.set_title("Echo latency CDF", fontsize=10)
        at.set_yscale("log")
        at.set_ylabel("fraction of round trips > x (log)")
        at.set_title("Tail (1 - CDF): p50, p90, p99, p99.9, max", fontsize=10)
        ax.legend(fontsize=7, loc="lower right")
        fig.suptitle("points are min/p50/p90/p99/p99.9/max from bschub-load --json; solid TLS, dashed plaintext",
                     fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(out, "latency_cdf_echo.png"), dpi=110)
        plt.close(fig)
        made.append("latency_cdf_echo.png")
    return made


def machine_meta(build):
    model = "?"
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        m = re.search(r"Model name:\s*(.+)", lscpu)
        model = m.group(1).strip() if m else "?"
        hv = re.search(r"Hypervisor vendor:\s*(.+)", lscpu)
        if hv:
            model += f" ({hv.group(1).strip()} VM)"
    except Exception:
        pass
    ram = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                ram = int(line.split()[1]) / 1024 / 1024
    git = ["git", "-C", ROOT, "--no-optional-locks"]
    commit = subprocess.run(git + ["rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip() or "?"
    subj = subprocess.run(git + ["log", "-1", "--format=%s"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(git + ["status", "--porcelain", "--untracked-files=no"], capture_output=True,
                           text=True).stdout.split("\n")
    dirty = ", ".join(sorted({l[3:] for l in dirty if l.strip()}))
    tls_lib = "mbedTLS"
    try:
        v = subprocess.run(["pkg-config", "--modversion", "mbedtls"], capture_output=True, text=True).stdout.strip()
        if v:
            tls_lib += " " + v
    except Exception:
        pass
    import hashlib
    sha = {}
    for b in ("bschub", "bschub-load"):
        try:
            with open(os.path.join(build, b), "rb") as f:
                sha[b] = hashlib.sha256(f.read()).hexdigest()[:12]
        except OSError:
            sha[b] = "?"
    bt = "?"
    try:
        with open(os.path.join(build, "meson-info", "intro-buildoptions.json")) as f:
            o = {x["name"]: x["value"] for x in json.load(f)}
        bt = f"{o.get('buildtype')}, -O{o.get('optimization')}"
    except (OSError, ValueError, KeyError):
        pass
    return {"buildtype": bt, "bin_sha": sha, "cpu_model": model, "ncpu": NCPU, "ram_gib": ram, "kernel": "Linux " + os.uname().release,
            "commit": f"{commit[:12]} {subj}", "dirty": dirty, "tls_lib": tls_lib}


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
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if args.from_json:
        with open(args.from_json) as f:
            d = json.load(f)
        plots = make_plots(d["rows"], args.out, lambda m: print(m, file=sys.stderr))
        write_report(d["rows"], d["meta"], args.out, plots)
        return 0
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
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

    W = list(range(1, NCPU + 1))
    D = args.duration
    specs = []
    sizes = [100, 1024, 1400]
    if args.quick:
        W, sizes, D = [1, NCPU] if NCPU > 1 else [1], [100], 1.0
    for tls in (True, False):
        for size in sizes:
            for w in W:
                specs.append(dict(mode="echo", workers=w, tls=tls, nodes=16, inflight=16, size=size, duration=D,
                                  label=f"echo {'TLS' if tls else 'plain'} {size} B, {w} worker(s)"))
    if not args.quick:
        specs.append(dict(mode="echo", workers=1, tls=True, nodes=16, inflight=16, size=1024, duration=D,
                          suite="aes128", label="echo TLS 1024 B, 1 worker(s), AES-128-GCM"))
    specs.append(dict(mode="echo", workers=1, tls=True, nodes=2, inflight=8, size="25-1400", duration=D,
                      label="light load: echo TLS 25-1400 B, 8 in flight, 1 worker(s)"))
    if PIN:  # the load tool has core 1 to itself: let it answer without sleeping
        specs.append(dict(mode="echo", workers=1, tls=True, nodes=2, inflight=8, size="25-1400", duration=D,
                          load_args=["--busy-poll"],
                          label="light load: echo TLS 25-1400 B, 8 in flight, 1 worker(s), load tool busy-polling"))
    wn = sorted({1, NCPU})
    bc_runs = [(100, 1), (1000, 1), (1000, 64)] if not args.quick else [(100, 1), (100, 8)]
    for n, senders in bc_runs:
        for w in wn:
            specs.append(dict(mode="broadcast", workers=w, tls=True, nodes=n, senders=senders, size=100, duration=D,
                              label=f"broadcast TLS to {n} nodes, {senders} sender(s), {w} worker(s)"))
    for w in wn:
        specs.append(dict(mode="connect", workers=w, tls=True, nodes=1000 if not args.quick else 200,
                          label=f"connect storm TLS, {w} worker(s)"))
    idle_n = 2000 if not args.quick else 200
    for tls in (True, False):
        specs.append(dict(mode="idle", workers=NCPU, tls=tls, nodes=idle_n, duration=args.idle_hold,
                          hub_args=["--idle-trim", "1"],
                          label=f"idle {'TLS' if tls else 'plain'} {idle_n} nodes, {NCPU} worker(s)"))

    if args.only:
        specs = [s for s in specs if args.only in s["label"]]
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
