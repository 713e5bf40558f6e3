"""The PNG plots of the report (matplotlib, optional: the report is written without them)."""
import os

from .matrix import frame_floor_us

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
