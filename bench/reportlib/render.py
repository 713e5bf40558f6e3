"""report.md from the rows of a run (or of a report.json: bench/report.py --from-json)."""
import os
import re
import shlex

from . import PIN, ROOT

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


def table_head(L, head):
    """A markdown table's header row and its separator."""
    L.append(head)
    L.append("|" + "---|" * (head.count("|") - 1))


def table(L, title, head, rows, row):
    """A titled markdown table: one row(r) line per row."""
    L.append(title)
    table_head(L, head)
    L.extend(row(r) for r in rows)


def cpu_cells(r):
    """hub CPU s | hub busy | load busy | others"""
    return (f"{r['hub_cpu_s']:.2f} | {r['hub_busy']:.0%} | {r['load_busy']:.0%} | "
            f"{r['other_cores_during']:.2f}")


def outcome_cells(r):
    """peak RSS | drops | loss l/d/c/r | notes, and the row's end"""
    return (f"{r['peak_rss_kb'] / 1024:.1f} MB | {drops_cell(r)} | {loss_cell(r)} | "
            f"{notes_for(r)} |")


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
        """p50 | p99"""
        return f"{fmt_lat(r['p50_us'])} | {fmt_lat(r['p99_us'])}"

    echo = [r for r in rows if r["mode"] == "echo"]
    if echo:
        L.append("## Echo (%s s; 16 nodes = 8 pairs with 16 in flight per pair, unless the row says otherwise)\n"
                 % echo[0]["duration"])
        table_head(L, "| TLS | suite | NPDU | workers | nodes x in flight | frames/s | hub frames | hub CPU s | hub busy | load busy | others | hub us/frame | floor us | x floor | p50 RTT | p99 RTT | peak RSS | drops | loss l/d/c/r | notes |")
        for r in echo:
            L.append(f"| {'TLS' if r['tls'] else 'plain'} | {suite_cell(r)} | {r['size']} B | {r['workers']} | "
                     f"{r['nodes']} x {r['inflight']} | {fmt(r['rate'])} | "
                     f"{fmt(r['hub_frames'])} | {cpu_cells(r)} | {fmt(r['us_per_frame'], 2)} | "
                     f"{fmt(r.get('floor_us'), 2)} | {fmt(r.get('x_floor'), 2)} | "
                     f"{lat_cells(r)} | {outcome_cells(r)}")
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
        table(L, "## Broadcast (TLS, 100 B NPDU, %s s; each sender has one broadcast in flight)\n"
              % bc[0]["duration"],
              "| nodes | senders | workers | copies/s | hub copies | hub CPU s | hub busy | load busy | others | hub us/copy | x 1.5 us (ref.) | p50 | p99 | peak RSS | drops | loss l/d/c/r | notes |",
              bc, lambda r: f"| {fmt(r['nodes'])} | {r.get('senders', 1)} | {r['workers']} | {fmt(r['rate'])} | "
                            f"{fmt(r['hub_frames'])} | {cpu_cells(r)} | {fmt(r['us_per_frame'], 2)} | "
                            f"{fmt(r.get('x_floor'), 2)} | {lat_cells(r)} | {outcome_cells(r)}")
        L.append("")

    cs = [r for r in rows if r["mode"] == "connect"]
    if cs:
        table(L, f"## Connect storm (TLS 1.3 mutual auth, {cs[0]['nodes']:,} nodes, 64 concurrent handshakes)\n",
              "| workers | handshakes/s | all connected after | hub CPU s | hub busy | load busy | others | hub ms/handshake | x 3.2 ms | handshake p50 | p99 | peak RSS | failed | notes |",
              cs, lambda r: f"| {r['workers']} | {fmt(r['handshakes_per_s'])} | {fmt(r['all_connected_s'], 2, ' s')} | "
                            f"{cpu_cells(r)} | {fmt(r.get('hub_ms_per_handshake'), 2)} | {fmt(r.get('x_floor'), 2)} | "
                            f"{lat_cells(r)} | {r['peak_rss_kb'] / 1024:.1f} MB | {r.get('connect_failed') or 0} | "
                            f"{notes_for(r)} |")
        L.append("\nHandshake latency = TCP connect to Connect-Accept, with 64 handshakes queued at once, so "
                 "it is mostly queueing. Both workers share core 0, so workers N cannot run handshakes in parallel here.\n")

    idle = [r for r in rows if r["mode"] == "idle"]
    if idle:
        L.append("## Idle (nodes connected and held, Heartbeat-Request every 2 s per node)\n")
        table_head(L, "| TLS | nodes | workers | hold | RSS before | peak RSS (VmHWM) | max RSS while held | KB/node (peak) | KB/node (held, max) | KB/node (end of hold) | all connected after | hub CPU while held | hub us/heartbeat | heartbeat RTT p50/p99 | loss l/d/c/r | notes |")
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
