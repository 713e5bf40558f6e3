#!/usr/bin/python3
"""Operations integration tests: /metrics, /status, bschub-ctl, SIGHUP certificate reload,
graceful SIGTERM.

    BSCHUB=build/bschub BSCHUB_CTL=build/bschub-ctl /usr/bin/python3 tests/integration/test_ops.py -v

Every hub here runs with --workers 2 and --metrics on an ephemeral loopback port; nodes are
the independent Python client of lib/nodes.py (Debian's websockets + ssl, our own BVLC-SC
codec, openssl-made certificates). Each test starts its own hub, so counts start at zero.
Every wait is bounded; nothing asserts a tight timing.
"""

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import websockets.exceptions

from lib import bvlc, certs, hubproc, nodes
from lib.metrics import http_request, parse_metrics, total

IO = 5.0           # one expected network event on a busy 2-core machine
POLL = 5.0         # how long a state change may take to show in /status


def setUpModule():
    nodes.setup_pki()


def tearDownModule():
    nodes.cleanup_pki()


def ops_hub(*extra_args, **kw):
    """nodes.start_hub() as these tests want it: debug log, the ops listener on, and
    --workers 2 unless extra_args name a number."""
    if "--workers" not in extra_args:
        extra_args += ("--workers", "2")
    if "--state-dir" not in extra_args:  # so that the state store's metrics show too
        extra_args += ("--state-dir", tempfile.mkdtemp(prefix="bschub-ops-state-"))
    return nodes.start_hub(*extra_args, log_level="debug", metrics=True, **kw)


class OpsCase(unittest.IsolatedAsyncioTestCase):
    """A fresh hub per test (its counters start at zero); nodes closed afterwards."""

    HUB_ARGS = ()

    async def asyncSetUp(self):
        loop = asyncio.get_running_loop()
        self.hub = await loop.run_in_executor(None, lambda: ops_hub(*self.HUB_ARGS))
        self.assertIsNotNone(self.hub.metrics_port, "no 'bschub metrics on' line on stdout")
        self.nodes = []

    async def asyncTearDown(self):
        await asyncio.gather(*(n.close() for n in self.nodes), return_exceptions=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, lambda: self.hub.stop(check=False))
        bad = hubproc.sanitizer_lines(self.hub)
        self.assertEqual(bad, [], "sanitizer report:\n" + "".join(bad[:20]))

    async def node(self, cert_index=None, **kw):
        kw.setdefault("name", f"node{len(self.nodes)}")
        n = await nodes.connect_node(self.hub, cert_index=len(self.nodes)
                                  if cert_index is None else cert_index, **kw)
        self.nodes.append(n)
        return n

    async def get(self, path, method="GET", raw=None):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            None, lambda: http_request(self.hub.metrics_port, path, method, raw))

    async def scrape(self):
        status, headers, body = await self.get("/metrics")
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8")
        return parse_metrics(body)

    async def status(self):
        import json
        status, headers, body = await self.get("/status")
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("content-type"), "application/json")
        doc = json.loads(body)
        self.assertTrue(doc["complete"], f"a worker did not answer: {doc}")
        return doc

    async def wait_status(self, want_vmacs, what):
        deadline = time.monotonic() + POLL
        while True:
            doc = await self.status()
            got = sorted(c["vmac"] for c in doc["connections"])
            if got == sorted(want_vmacs) or time.monotonic() > deadline:
                self.assertEqual(got, sorted(want_vmacs), what)
                return doc
            await asyncio.sleep(0.05)

    async def ctl(self, *args):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, lambda: subprocess.run(
            [hubproc.ctl_binary(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, timeout=30))


# --- metrics ----------------------------------------------------------------------------

def metrics_table_rows():
    """The rows of the metrics table in docs/operations.md (section "## Metrics")."""
    path = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "operations.md")
    with open(path) as f:
        section = f.read().split("\n## Metrics\n", 1)[1].split("\n## ", 1)[0]
    return [ln for ln in section.splitlines() if ln.startswith("| `bschub_")]


class MetricsTest(OpsCase):

    async def test_exact_counts_after_known_traffic(self):
        N, M = 5, 2          # unicasts A->B, broadcasts from A
        a, b, c = [await self.node() for _ in range(3)]
        sent_in, bytes_out = 0, 0
        for i in range(N):
            raw = bvlc.npdu(0x100 + i, b.vmac, nodes.NPDU)
            await a.send(raw)
            sent_in += len(raw)
            want = bvlc.hub_unicast_rewrite(raw, a.vmac)
            await b.expect(want, f"unicast {i}")
            bytes_out += len(want)
        for i in range(M):
            raw = bvlc.npdu(0x200 + i, bvlc.BROADCAST_VMAC, nodes.NPDU)
            await a.send(raw)
            sent_in += len(raw)
            want = bvlc.hub_broadcast_rewrite(raw, a.vmac)
            for n in (b, c):
                await n.expect(want, f"broadcast {i}")
                bytes_out += len(want)
        # A request addressed to the hub itself: NAKed (HEADER_ENCODING_ERROR).
        raw = bvlc.npdu(0x300, None, nodes.NPDU)
        await c.send(raw)
        sent_in += len(raw)
        nak = await nodes.expect_nak(c, 0x300, bvlc.ENCAPSULATED_NPDU,
                                  bvlc.HEADER_ENCODING_ERROR)
        # One refused TLS handshake (no client certificate).
        mark = self.hub.mark()
        with self.assertRaises(Exception):
            await nodes.open_ws(self.hub, nodes.client_ctx())
        self.assertIsNotNone(self.hub.wait_for_log(r"event=tls_handshake_failed", mark, IO))

        s = await self.scrape()
        expect = {
            ("bschub_connections_accepted_total", ()): 4,
            ("bschub_node_connects_total", ()): 3,
            ("bschub_frames_received_total", (("function", "connect_request"),)): 3,
            ("bschub_frames_sent_total", (("function", "connect_accept"),)): 3,
            ("bschub_frames_received_total", (("function", "encapsulated_npdu"),)): N + M + 1,
            ("bschub_received_bytes_total", (("function", "encapsulated_npdu"),)): sent_in,
            ("bschub_frames_sent_total", (("function", "encapsulated_npdu"),)): N + 2 * M,
            ("bschub_sent_bytes_total", (("function", "encapsulated_npdu"),)): bytes_out,
            ("bschub_frames_sent_total", (("function", "bvlc_result"),)): 1,
            ("bschub_sent_bytes_total", (("function", "bvlc_result"),)): len(nak),
            ("bschub_naks_sent_total", ()): 1,
            ("bschub_unicast_delivered_total", ()): N,
            ("bschub_broadcasts_received_total", ()): M,
            ("bschub_broadcast_copies_delivered_total", ()): 2 * M,
            ("bschub_dropped_total", ()): 0,
            ("bschub_handshake_failures_total", (("reason", "tls_no_client_certificate"),)): 1,
            ("bschub_handshake_failures_total", ()): 1,
            ("bschub_connections_refused_total", (("reason", "tls_handshake"),)): 1,
            ("bschub_connections_refused_total", (("reason", "max_connections"),)): 0,
            ("bschub_handshake_duration_seconds_count", ()): 3,
            ("bschub_nodes", (("state", "connected"),)): 3,
            ("bschub_connections_handshaking", ()): 0,
            ("bschub_worker_up", ()): 2,
        }
        got = {k: total(s, k[0], **dict(k[1])) for k in expect}
        self.assertEqual(got, expect)
        # Per-worker series exist for both workers; the histogram buckets are cumulative.
        workers = {ls["worker"] for n, ls, _ in s if n == "bschub_frames_received_total"}
        self.assertEqual(workers, {"0", "1"})
        for w in ("0", "1"):
            buckets = [(float(ls["le"]), v) for n, ls, v in s
                       if n == "bschub_handshake_duration_seconds_bucket" and ls["worker"] == w]
            self.assertEqual([v for _, v in sorted(buckets)], sorted(v for _, v in buckets))

    async def test_every_family_and_label_value_is_documented(self):
        # docs/operations.md's metrics table is written by hand: this fails when it drifts
        # from what the hub exposes, either way (the counters themselves come from one list
        # in core/stats.hpp; tests/unit/ops/metrics_test.cpp checks each is exposed).
        status, _, body = await self.get("/metrics")
        self.assertEqual(status, 200)
        families = [ln.split()[2] for ln in body.splitlines() if ln.startswith("# TYPE ")]
        rows = metrics_table_rows()
        documented = {m for row in rows for m in re.findall(r"`(bschub_\w+)`", row)}
        self.assertEqual(sorted(set(families) - documented), [], "exposed but not documented")
        self.assertEqual(sorted(documented - set(families)), [], "documented but not exposed")
        # Each label value with a fixed vocabulary is named in its family's row.
        free = {"worker", "function", "le", "version", "vmac", "uuid"}
        for name, labels, _ in parse_metrics(body):
            family = name if name in families else re.sub(r"_(bucket|sum|count)$", "", name)
            row = next(r for r in rows if f"`{family}`" in r)
            for key, value in labels.items():
                if key not in free:
                    self.assertRegex(row, rf"(?<!\w){re.escape(value)}(?!\w)",
                                     f"{family}{{{key}=\"{value}\"}} not documented")

    async def test_http_errors_and_bounds(self):
        status, _, body = await self.get("/nope")
        self.assertEqual(status, 404)
        status, headers, _ = await self.get("/metrics", method="POST")
        self.assertEqual(status, 405)
        self.assertEqual(headers.get("allow"), "GET")
        status, _, _ = await self.get("/metrics", method="DELETE")
        self.assertEqual(status, 405)
        # A body that never comes does not delay the answer.
        status, _, _ = await self.get(None, raw=b"POST /status HTTP/1.1\r\n"
                                      b"Content-Length: 100\r\n\r\n")
        self.assertEqual(status, 405)
        status, _, _ = await self.get(None, raw=b"GET /metrics HTTP/1.1\r\nX: "
                                      + b"a" * 9000 + b"\r\n\r\n")
        self.assertEqual(status, 431)
        status, _, _ = await self.get(None, raw=b"\x16\x03\x01garbage\r\n\r\n")
        self.assertEqual(status, 400)
        # The query string is ignored; the listener still serves after all that.
        status, _, _ = await self.get("/metrics?x=1")
        self.assertEqual(status, 200)


class MetricsListenerTest(unittest.TestCase):

    def test_default_loopback_and_bad_values(self):
        # A bare port binds loopback; a bad value exits 2 with a clear sentence.
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        hub = ops_hub("--metrics", str(port), "--state-dir", "")  # a second hub runs below
        try:
            line = next(ln for ln in hub._stdout if ln.startswith("bschub metrics on"))
            self.assertIn(f"http://127.0.0.1:{port} ", line)
            self.assertEqual(http_request(port, "/metrics")[0], 200)
            # the same port again: refused with exit 2
            p = subprocess.run(hub.argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, timeout=30)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn("cannot listen for --metrics", p.stderr)
        finally:
            hub.stop(check=True, timeout=10)
        i = hub.argv.index("--metrics")
        argv = hub.argv[:i] + ["--metrics", "nohost:x"] + hub.argv[i + 2:]
        p = subprocess.run(argv, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--metrics wants PORT or HOST:PORT", p.stderr)


class FloodLogTest(OpsCase):
    """A flood of refused connections: every one counted, but only a bounded number of
    per-connection log lines, then one notice, then periodic summaries."""

    HUB_ARGS = ("--workers", "1", "--max-connections", "1")
    FLOOD = 70

    async def test_refusal_flood_is_rate_limited_in_the_log(self):
        await self.node()
        mark = self.hub.mark()
        loop = asyncio.get_running_loop()

        def flood():
            for _ in range(self.FLOOD):
                with socket.create_connection(self.hub.address, timeout=IO) as s:
                    s.settimeout(IO)
                    try:
                        s.recv(1)  # the hub closes it at once
                    except OSError:
                        pass
        await loop.run_in_executor(None, flood)
        deadline = time.monotonic() + 3 * IO
        s = await self.scrape()
        while (total(s, "bschub_connections_refused_total", reason="max_connections")
               < self.FLOOD and time.monotonic() < deadline):
            await asyncio.sleep(0.1)
            s = await self.scrape()
        self.assertEqual(total(s, "bschub_connections_refused_total", reason="max_connections"),
                         self.FLOOD)
        per_conn = self.hub.logs_since(mark, r"event=connection_refused ")
        self.assertLess(len(per_conn), self.FLOOD)
        self.assertGreaterEqual(len(per_conn), 1)
        self.assertIsNotNone(self.hub.wait_for_log(
            r"event=log_rate_limited what=connection_refused", mark, IO))
        # The periodic summary (every 10 s) accounts for every refusal.
        deadline = time.monotonic() + 25.0
        while True:
            counts = [int(m.group(1)) for ln in self.hub.logs_since(
                mark, r"event=connections_refused reason=max_connections")
                for m in [re.search(r" count=(\d+)", ln)]]
            if sum(counts) >= self.FLOOD or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        self.assertEqual(sum(counts), self.FLOOD)


# --- status and bschub-ctl --------------------------------------------------------------

class StatusTest(OpsCase):

    async def test_status_lists_exactly_the_connected_nodes(self):
        doc = await self.status()
        self.assertEqual(doc["connections"], [])
        self.assertEqual(doc["hub"]["vmac"], bvlc.vmac_str(nodes.HUB_VMAC))
        # A connection that has not sent Connect-Request is not a node yet.
        ws, _ = await nodes.open_ws(self.hub, nodes.node_ctx(3))
        a, b = await self.node(), await self.node()
        doc = await self.wait_status([bvlc.vmac_str(a.vmac), bvlc.vmac_str(b.vmac)],
                                     "two nodes connected")
        by_vmac = {c["vmac"]: c for c in doc["connections"]}
        for n in (a, b):
            e = by_vmac[bvlc.vmac_str(n.vmac)]
            self.assertEqual(e["uuid"], bvlc.uuid_str(n.uuid))
            self.assertEqual(e["peer_address"], f"127.0.0.1:{n.lport}")
            self.assertEqual(e["state"], "connected")
            self.assertIn(e["worker"], (0, 1))
            self.assertRegex(e["connect_time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertEqual(e["last_error"], "")
        # A NAK is the node's last error.
        await b.send(bvlc.npdu(0x55, None, nodes.NPDU))
        await nodes.expect_nak(b, 0x55, bvlc.ENCAPSULATED_NPDU, bvlc.HEADER_ENCODING_ERROR)
        doc = await self.status()
        e = {c["vmac"]: c for c in doc["connections"]}[bvlc.vmac_str(b.vmac)]
        self.assertEqual(e["last_error"], "destination VMAC required")

        # bschub-ctl prints both as rows of an aligned table.
        p = await self.ctl("status", "--metrics", f"127.0.0.1:{self.hub.metrics_port}")
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        header = next(i for i, ln in enumerate(lines) if ln.startswith("VMAC"))
        # The node table ends at the blank line before the connection history's tables.
        end = lines.index("", header) if "" in lines[header:] else len(lines)
        rows = lines[header + 1:end]
        self.assertEqual(len(rows), 2, p.stdout)
        col = lines[header].index("PEER")
        for n in (a, b):
            row = next(r for r in rows if r.startswith(bvlc.vmac_str(n.vmac)))
            self.assertIn(bvlc.uuid_str(n.uuid), row)
            self.assertEqual(row[col:].split()[0], f"127.0.0.1:{n.lport}", p.stdout)
            self.assertIn("connected", row)

        # A leaves with Disconnect-Request; B's TCP just vanishes: both drop off the table.
        await a.send(bvlc.disconnect_request(0x77))
        await a.expect(bvlc.disconnect_ack(0x77), "Disconnect-ACK")
        await self.wait_status([bvlc.vmac_str(b.vmac)], "after A's Disconnect-Request")
        b.abort()
        await self.wait_status([], "after B's TCP went away")
        p = await self.ctl("status", "--metrics", str(self.hub.metrics_port))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("nodes 0", p.stdout)
        await ws.close()

    async def test_ctl_metrics_and_errors(self):
        await self.node()
        p = await self.ctl("metrics", "--metrics", f"127.0.0.1:{self.hub.metrics_port}")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(total(parse_metrics(p.stdout), "bschub_node_connects_total"), 1)
        # Nobody listening: exit 1 and a sentence saying so.
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            free = s.getsockname()[1]
        p = await self.ctl("status", "--metrics", f"127.0.0.1:{free}")
        self.assertEqual(p.returncode, 1)
        self.assertIn("cannot connect to 127.0.0.1:", p.stderr)
        p = await self.ctl("status", "--metrics", "127.0.0.1:notaport")
        self.assertEqual(p.returncode, 2)
        p = await self.ctl("frobnicate")
        self.assertEqual(p.returncode, 2)

    async def test_logs_name_vmac_uuid_peer_worker_reason(self):
        mark = self.hub.mark()
        a = await self.node()
        line = self.hub.wait_for_log(r"event=node_connected", mark, IO)
        self.assertIsNotNone(line)
        for field in (f"vmac={bvlc.vmac_str(a.vmac)}", f"uuid={bvlc.uuid_str(a.uuid)}",
                      f"peer=127.0.0.1:{a.lport}"):
            self.assertIn(field, line)
        self.assertRegex(line, r"^ts=\S+ level=info worker=[01] event=node_connected ")
        await a.send(bvlc.disconnect_request(0x78))
        await a.expect(bvlc.disconnect_ack(0x78), "Disconnect-ACK")
        line = self.hub.wait_for_log(r"event=node_disconnected", mark, IO)
        self.assertIsNotNone(line)
        self.assertIn(f"uuid={bvlc.uuid_str(a.uuid)}", line)
        self.assertIn('reason="Disconnect-Request"', line)


# --- SIGHUP certificate rotation --------------------------------------------------------

class ReloadTest(OpsCase):
    """The hub runs from copies of its files in a temporary directory that the tests
    overwrite before SIGHUP."""

    NEW_PKI = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.NEW_PKI = certs.make_pki(tempfile.mkdtemp(prefix="bschub-it-newpki-"), n_nodes=2)

    @classmethod
    def tearDownClass(cls):
        cls.NEW_PKI.cleanup()
        super().tearDownClass()

    async def asyncSetUp(self):
        self.dir = tempfile.mkdtemp(prefix="bschub-it-live-")
        self.files = {k: os.path.join(self.dir, k) for k in ("hub.pem", "hub.key", "ca.pem")}
        self.install(nodes.PKI)
        loop = asyncio.get_running_loop()
        self.hub = await loop.run_in_executor(None, lambda: ops_hub(
            cert=self.files["hub.pem"], key=self.files["hub.key"], ca=self.files["ca.pem"]))
        self.nodes = []

    async def asyncTearDown(self):
        await super().asyncTearDown()
        shutil.rmtree(self.dir, ignore_errors=True)

    def install(self, pki):
        for name, src in (("hub.pem", pki.hub_cert), ("hub.key", pki.hub_key),
                          ("ca.pem", pki.ca_cert)):
            shutil.copyfile(src, self.files[name] + ".tmp")
            os.replace(self.files[name] + ".tmp", self.files[name])

    async def new_ca_node(self, pki, index, name):
        cert, key = pki.node(index)
        n = await nodes.connect_node(self.hub, msg_id=0x10, name=name,
                                     ctx=nodes.client_ctx(cert, key, ca=pki.ca_cert))
        self.nodes.append(n)
        return n

    async def exchange(self, x, y, msg_id):
        raw = bvlc.npdu(msg_id, y.vmac, nodes.NPDU)
        await x.send(raw)
        await y.expect(bvlc.hub_unicast_rewrite(raw, x.vmac), f"{x} -> {y}")

    async def test_new_ca_admits_new_nodes_and_disconnects_the_old_cas(self):
        old = await self.node()
        self.install(self.NEW_PKI)
        mark = self.hub.mark()
        self.hub.send_signal(signal.SIGHUP)
        line = self.hub.wait_for_log(r"event=reloaded", mark, IO)
        self.assertIsNotNone(line, "no event=reloaded; tail:\n" + self.hub.stderr_tail())
        # The session from before the reload was issued by a CA no longer configured: the
        # re-check closes it (policy violation) and says why.
        self.assertEqual(await old.expect_closed(), 1008)
        self.assertIsNotNone(self.hub.wait_for_log(
            r"event=node_removed .*cause=revoked reason=\"no longer issued by a configured CA",
            mark, IO))
        new = await self.new_ca_node(self.NEW_PKI, 0, "new-ca-node")
        new2 = await self.new_ca_node(self.NEW_PKI, 1, "new-ca-node2")
        await self.exchange(new, new2, 0x21)
        # A node with a certificate from the old CA is now refused.
        mark = self.hub.mark()
        with self.assertRaises(Exception):
            await nodes.open_ws(self.hub, nodes.client_ctx(*nodes.PKI.node(1),
                                                           ca=self.NEW_PKI.ca_cert))
        self.assertIsNotNone(self.hub.wait_for_log(r"event=tls_handshake_failed", mark, IO))
        s = await self.scrape()
        self.assertEqual(total(s, "bschub_tls_reloads_total", result="ok"), 1)
        self.assertEqual(total(s, "bschub_nodes", state="connected"), 2)
        self.assertEqual(total(s, "bschub_nodes_closed_total", reason="revoked"), 1)

    async def test_broken_files_keep_the_old_config(self):
        old = await self.node()
        with open(self.files["hub.pem"], "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
        mark = self.hub.mark()
        self.hub.send_signal(signal.SIGHUP)
        line = self.hub.wait_for_log(r"event=reload_failed", mark, IO)
        self.assertIsNotNone(line, "no event=reload_failed; tail:\n" + self.hub.stderr_tail())
        self.assertRegex(line, r'reason="[^"]+"')
        self.assertIn(self.files["hub.pem"], line)
        # New nodes with the old CA still get in; the old session is undisturbed.
        new = await self.node()
        await self.exchange(old, new, 0x31)
        await self.exchange(new, old, 0x32)
        # A missing key file fails too, with its own reason; still running.
        os.unlink(self.files["hub.key"])
        mark = self.hub.mark()
        self.hub.send_signal(signal.SIGHUP)
        self.assertIsNotNone(self.hub.wait_for_log(r"event=reload_failed", mark, IO))
        await self.node()
        s = await self.scrape()
        self.assertEqual(total(s, "bschub_tls_reloads_total", result="failed"), 2)
        self.assertEqual(total(s, "bschub_tls_reloads_total", result="ok"), 0)


# --- graceful SIGTERM -------------------------------------------------------------------

async def answer_disconnect(node, ack=True, timeout=IO):
    """Waits for the hub's Disconnect-Request; ACKs it if asked. Then waits for the end of
    the connection and returns (got_request, close code or None)."""
    got_request = False
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"{node}: connection still open after {timeout} s")
        try:
            msg = await asyncio.wait_for(node.ws.recv(), left)
        except asyncio.TimeoutError:
            continue
        except websockets.exceptions.ConnectionClosed as exc:
            return got_request, (exc.rcvd.code if exc.rcvd is not None else None)
        if isinstance(msg, bytes) and len(msg) == 4 and msg[0] == bvlc.DISCONNECT_REQUEST:
            got_request = True
            if ack:
                await node.ws.send(bvlc.disconnect_ack(int.from_bytes(msg[2:4], "big")))


class ShutdownTest(OpsCase):

    HUB_ARGS = ("--shutdown-timeout", "3")

    async def test_sigterm_disconnects_every_node_and_exits_0_within_the_bound(self):
        ackers = [await self.node() for _ in range(3)]
        silent = await self.node()   # reads, but never answers the Disconnect-Request
        await self.wait_status([bvlc.vmac_str(n.vmac) for n in ackers + [silent]], "4 nodes")
        loop = asyncio.get_running_loop()
        t0 = time.monotonic()
        self.hub.send_signal(signal.SIGTERM)
        results = await asyncio.gather(*(answer_disconnect(n) for n in ackers),
                                       answer_disconnect(silent, ack=False, timeout=3 + IO))
        rc = await loop.run_in_executor(None, self.hub.wait, 3 + IO)
        elapsed = time.monotonic() - t0
        self.assertEqual(rc, 0, f"exit code after SIGTERM ({elapsed:.1f} s); tail:\n"
                         + self.hub.stderr_tail())
        for got_request, code in results[:3]:
            self.assertTrue(got_request, "an ACKing node got no Disconnect-Request")
            self.assertEqual(code, 1000, "an ACKing node did not see a clean WebSocket close")
        self.assertTrue(results[3][0], "the silent node got no Disconnect-Request")
        # The silent node was cut at the deadline, not waited for beyond it.
        self.assertIsNotNone(self.hub.wait_for_log(r"event=shutdown_deadline", 0, 0))
        for n in ackers:
            self.assertIsNotNone(self.hub.wait_for_log(
                rf"event=node_disconnected .*vmac={bvlc.vmac_str(n.vmac)} .*"
                r'reason="Disconnect-ACK"', 0, 0), f"no clean disconnect logged for {n}")

    async def test_all_ack_exits_without_waiting_for_the_deadline(self):
        # With a 60 s bound, an exit well before it shows the hub ends once all ACKed.
        self.hub.stop(check=False)
        loop = asyncio.get_running_loop()
        self.hub = await loop.run_in_executor(
            None, lambda: ops_hub("--shutdown-timeout", "60"))
        four = [await self.node() for _ in range(4)]
        t0 = time.monotonic()
        self.hub.send_signal(signal.SIGINT)
        results = await asyncio.gather(*(answer_disconnect(n) for n in four))
        rc = await loop.run_in_executor(None, self.hub.wait, 30.0)
        self.assertEqual(rc, 0, "tail:\n" + self.hub.stderr_tail())
        self.assertLess(time.monotonic() - t0, 30.0)
        self.assertEqual(results, [(True, 1000)] * 4)
        self.assertIsNone(self.hub.wait_for_log(r"event=shutdown_deadline", 0, 0))


if __name__ == "__main__":
    hubproc.main()
