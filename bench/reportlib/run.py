"""Running one row of the matrix: a hub pinned to core 0 (tests/integration/lib/hubproc.py),
bschub-load on core 1, and the CPU, RSS and counter accounting of the load phase. Every child
dies with the script (PR_SET_PDEATHSIG, kill_all)."""
import ctypes
import json
import os
import re
import signal
import subprocess
import tempfile
import threading
import time

from lib import hubproc, procstat

from . import NCPU, PIN, ROOT
from .matrix import HANDSHAKE_FLOOR_MS, frame_floor_us

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


def on_signal(signum, _frame):
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
