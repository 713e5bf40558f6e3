#!/usr/bin/python3
"""Transport faults against a running bschub: peers that vanish mid-TLS-record, mid-WebSocket
frame, mid-BVLC message (between WebSocket fragments), with TCP RST, without close_notify,
during the TLS handshake or the HTTP upgrade, and half-open peers that go silent.

After each fault the hub must free the node's VMAC (a new node with the same VMAC and a
different UUID is accepted at once), keep routing between bystanders, and log why the
connection ended. A loop of 200 abrupt disconnects checks that the hub's descriptor count
returns to its baseline; one class checks the counters of the `event=stopped` line.

    BSCHUB=build/bschub /usr/bin/python3 tests/integration/test_faults.py [-v]

The faulty peer is a raw socket with its own TLS (ssl.SSLObject over memory BIOs), so the
test decides exactly which ciphertext octets reach the hub before the socket dies.
meson runs this file with BSCHUB_WORKERS=1 and 2.
"""
import asyncio
import signal
import socket
import ssl
import struct
import time

from lib import bvlc, hubproc, nodes, procstat
from lib.nodes import (NPDU, HubTestCase, accept_bytes, connect_node, exchange, node_ctx,
                       tcp_connect)
from lib.wsframe import BINARY, upgrade_request, ws_frame

IO = 5.0               # one expected network event on a busy machine
# What the hub logs for a peer's RST. Usually ECONNRESET; but when the RST lands before the
# hub's first read of that socket (seen under TSan), Linux reports end of file instead.
RST_REASON = 'reason="(connection reset by peer|peer closed TCP)"'
FIN_REASON = 'reason="peer closed TCP"'

CHURN = 200            # abrupt disconnects in the descriptor test
CHURN_PARALLEL = 8     # of which at most this many at once


def setUpModule():
    nodes.setup_pki()


def tearDownModule():
    nodes.cleanup_pki()


def hub_fds(hub):
    return procstat.fd_count(hub.proc.pid)


async def settled_fds(hub):
    """The hub's fd count once it has not changed for 0.5 s (at most 5 s). The hub opens a
    few descriptors of its own after the listening line (its signal loop), so a baseline
    taken at once would be low."""
    last, stable_since = hub_fds(hub), time.monotonic()
    deadline = time.monotonic() + 5
    while time.monotonic() - stable_since < 0.5 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        now = hub_fds(hub)
        if now != last:
            last, stable_since = now, time.monotonic()
    return last


class RawTls:
    """A TLS client over a non-blocking socket and memory BIOs: seal() returns the ciphertext
    of a plaintext write, and the test sends as much of it as it likes."""

    def __init__(self, sock, ctx):
        self.sock = sock
        self.inc, self.outc = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = ctx.wrap_bio(self.inc, self.outc, server_hostname="127.0.0.1")
        self.plain = b""
        self.lport = sock.getsockname()[1]

    @classmethod
    async def connect(cls, hub, index=0):
        return cls(await tcp_connect(hub, timeout=IO), node_ctx(index))

    async def _recv_into_tls(self):
        data = await asyncio.wait_for(asyncio.get_running_loop().sock_recv(self.sock, 65536), IO)
        if not data:
            raise ConnectionError("hub closed TCP")
        self.inc.write(data)

    def step(self, tls_call):
        """(done, ciphertext): runs a TLS call (do_handshake, unwrap) until it waits for the
        hub; done is False if it does, and the ciphertext is what it wrote, not yet sent."""
        try:
            tls_call()
            done = True
        except ssl.SSLWantReadError:
            done = False
        return done, self.outc.read()

    async def handshake_step(self):
        """One client flight; True once the handshake is complete."""
        done, out = self.step(self.tls.do_handshake)
        if out:
            await self.send_raw(out)
        return done

    async def handshake(self):
        while not await self.handshake_step():
            await self._recv_into_tls()

    def seal(self, plain: bytes) -> bytes:
        self.tls.write(plain)
        return self.outc.read()

    async def send_raw(self, data: bytes):
        await asyncio.wait_for(asyncio.get_running_loop().sock_sendall(self.sock, data), IO)

    async def send(self, plain: bytes):
        await self.send_raw(self.seal(plain))

    async def _read_while(self, more):
        """Decrypts into self.plain, reading the socket as needed, while more() is true."""
        while more():
            try:
                self.plain += self.tls.read(65536)
                continue
            except ssl.SSLWantReadError:
                pass
            await self._recv_into_tls()

    async def read_plain(self, n):
        """Exactly n plaintext octets."""
        await self._read_while(lambda: len(self.plain) < n)
        got, self.plain = self.plain[:n], self.plain[n:]
        return got

    async def read_until(self, marker: bytes):
        await self._read_while(lambda: marker not in self.plain)
        i = self.plain.index(marker) + len(marker)
        got, self.plain = self.plain[:i], self.plain[i:]
        return got

    async def read_frame(self):
        """(opcode, payload) of one unmasked server frame."""
        h = await self.read_plain(2)
        n = h[1] & 0x7F
        if n == 126:
            n = int.from_bytes(await self.read_plain(2), "big")
        elif n == 127:
            n = int.from_bytes(await self.read_plain(8), "big")
        return h[0] & 0x0F, (await self.read_plain(n) if n else b"")

    async def upgrade(self):
        await self.send(upgrade_request())
        head = await asyncio.wait_for(self.read_until(b"\r\n\r\n"), IO)
        if not head.startswith(b"HTTP/1.1 101 "):
            raise AssertionError(f"upgrade refused: {head[:60]!r}")

    async def connect_node(self, vmac, uuid, msg_id=0x0F01):
        await self.send(ws_frame(BINARY, bvlc.connect_request(msg_id, vmac, uuid)))
        op, payload = await asyncio.wait_for(self.read_frame(), IO)
        want = accept_bytes(msg_id)
        if (op, payload) != (BINARY, want):
            raise AssertionError(f"expected Connect-Accept, got opcode {op} {payload.hex()}")

    def close(self):
        """FIN, without TLS close_notify or a WebSocket Close. A shutdown rather than close():
        close() with unread input (the hub's ServerHello, say) would send RST instead. The
        descriptor is closed at the end of the test."""
        self.sock.shutdown(socket.SHUT_WR)

    def reset(self):
        """RST: SO_LINGER {on, 0 s} makes close() abort the connection."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()


class FaultCase(HubTestCase):
    """A connected raw node dies in some way; then its VMAC must be free and the bystanders
    must still exchange traffic."""

    async def raw_node(self, connect=True):
        r = await RawTls.connect(self.hub, index=len(self.nodes) + 5)
        self.raws.append(r)
        await r.handshake()
        await r.upgrade()
        r.vmac, r.uuid = bvlc.random_vmac(), bvlc.random_uuid()
        if connect:
            await r.connect_node(r.vmac, r.uuid)
        return r

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.raws = []
        self.b = await self.node(name="bystander-b")
        self.c = await self.node(name="bystander-c")

    async def asyncTearDown(self):
        for r in self.raws:
            r.sock.close()
        await super().asyncTearDown()

    async def assert_gone(self, raw, since, reason):
        """The hub logs the node's end with `reason` and frees its VMAC: a node with the
        same VMAC and a new UUID is accepted at the first try."""
        vm = bvlc.vmac_str(raw.vmac)
        line = await self.wait_log(rf"event=node_(gone|disconnected) peer=127\.0\.0\.1:"
                                   rf"{raw.lport} ", since, timeout=IO)
        self.assertIsNotNone(line, f"no node_gone line for port {raw.lport}; tail:\n"
                             + self.hub.stderr_tail())
        self.assertIn(f"vmac={vm}".upper(), line.upper())
        self.assertRegex(line, reason)
        newcomer = await connect_node(self.hub, vmac=raw.vmac, uuid=bvlc.random_uuid(),
                                      cert_index=3, name="newcomer")
        self.nodes.append(newcomer)
        await exchange(self.b, newcomer, 0x7A00)
        await exchange(self.b, self.c)
        return line


class MidMessageTest(FaultCase):
    async def die_mid(self, send_part, reason, cut):
        """A connected raw node sends part of something (`send_part(r)`), then its TCP ends
        (FIN_REASON: a FIN, RST_REASON: an RST). The hub logs it gone with `reason` and frees
        its VMAC; with `cut` named, B receives nothing of the part."""
        r = await self.raw_node()
        since = self.hub.mark()
        await send_part(r)
        r.close() if reason == FIN_REASON else r.reset()
        await self.assert_gone(r, since, reason)
        if cut:
            await self.b.assert_silent(what=f"nothing of the cut {cut}")

    async def test_fin_in_the_middle_of_a_tls_record(self):
        def half_record(r):
            record = r.seal(ws_frame(BINARY, bvlc.npdu(0x10, self.b.vmac, NPDU)))
            return r.send_raw(record[:len(record) // 2])
        await self.die_mid(half_record, FIN_REASON, "record")

    async def test_fin_in_the_middle_of_a_websocket_frame(self):
        frame = ws_frame(BINARY, bvlc.npdu(0x11, self.b.vmac, NPDU + bytes(200)))
        # a whole TLS record, half a frame
        await self.die_mid(lambda r: r.send(frame[:len(frame) // 2]), FIN_REASON, "frame")

    async def test_fin_in_the_middle_of_a_bvlc_message(self):
        # The message is fragmented over two WebSocket frames; the peer dies after the first.
        msg = bvlc.npdu(0x12, self.b.vmac, NPDU)
        await self.die_mid(lambda r: r.send(ws_frame(BINARY, msg[:9], fin=False)), FIN_REASON,
                           "message")

    async def test_rst_in_the_middle_of_a_websocket_frame(self):
        frame = ws_frame(BINARY, bvlc.npdu(0x13, self.b.vmac, NPDU))
        await self.die_mid(lambda r: r.send(frame[:5]), RST_REASON, None)


class AbruptCloseTest(FaultCase):
    async def test_rst_after_connect(self):
        r = await self.raw_node()
        since = self.hub.mark()
        r.reset()
        await self.assert_gone(r, since, RST_REASON)

    async def test_fin_without_close_notify(self):
        r = await self.raw_node()
        await r.send(ws_frame(BINARY, bvlc.heartbeat_request(0x21)))
        self.assertEqual(await asyncio.wait_for(r.read_frame(), IO),
                         (BINARY, bvlc.heartbeat_ack(0x21)))
        since = self.hub.mark()
        r.close()
        await self.assert_gone(r, since, FIN_REASON)

    async def test_close_notify_without_websocket_close(self):
        r = await self.raw_node()
        since = self.hub.mark()
        await r.send_raw(r.step(r.tls.unwrap)[1])
        await self.assert_gone(r, since, r'reason="peer sent close_notify"')


class HandshakeDeathTest(HubTestCase):
    """Peers that die before they are nodes: nothing is logged as a node, the connection
    is released (descriptors back to the idle hub's count), and a normal node still connects."""

    idle_fds = None

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.raws = []
        if HandshakeDeathTest.idle_fds is None:
            HandshakeDeathTest.idle_fds = await settled_fds(self.hub)

    async def asyncTearDown(self):
        for r in self.raws:
            r.sock.close()

    async def connect_raw(self):
        r = await RawTls.connect(self.hub)
        self.raws.append(r)
        return r

    async def _check_released(self, since, reason):
        line = await self.wait_log(rf'event=node_gone .*vmac=- uuid=- {reason}', since,
                                   timeout=IO)
        self.assertIsNotNone(line, self.hub.stderr_tail())
        deadline = time.monotonic() + 10
        while hub_fds(self.hub) != self.idle_fds and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        self.assertEqual(hub_fds(self.hub), self.idle_fds, "descriptor not released")
        n = await connect_node(self.hub, name="after")
        await n.heartbeat()
        await n.close()

    async def test_fin_after_client_hello(self):
        r = await self.connect_raw()
        since = self.hub.mark()
        await r.handshake_step()       # ClientHello
        r.close()
        await self._check_released(since, FIN_REASON)

    async def test_rst_in_the_middle_of_the_client_hello(self):
        r = await self.connect_raw()
        since = self.hub.mark()
        hello = r.step(r.tls.do_handshake)[1]
        await r.send_raw(hello[:len(hello) // 2])
        r.reset()
        await self._check_released(since, RST_REASON)

    async def test_fin_after_server_hello_before_finished(self):
        # The hub has sent its whole flight and waits for the client's certificate.
        r = await self.connect_raw()
        since = self.hub.mark()
        await r.handshake_step()
        await r._recv_into_tls()
        r.close()
        await self._check_released(since, FIN_REASON)

    async def test_fin_in_the_middle_of_the_upgrade_request(self):
        r = await self.connect_raw()
        await r.handshake()
        since = self.hub.mark()
        req = upgrade_request()
        await r.send(req[:len(req) // 2])
        r.close()
        await self._check_released(since, FIN_REASON)

    async def test_rst_after_the_upgrade_before_connect_request(self):
        r = await self.connect_raw()
        await r.handshake()
        await r.upgrade()
        since = self.hub.mark()
        r.reset()
        await self._check_released(since, RST_REASON)


class HalfOpenTest(FaultCase):
    """The peer stops reading and writing but keeps its socket open: only the hub's
    liveness probe can find out (2 x --heartbeat-timeout of silence, then --connect-wait
    for the answer)."""
    HUB_ARGS = ("--heartbeat-timeout", "1", "--connect-wait", "2")

    async def test_half_open_peer_found_by_liveness_timeout(self):
        r = await self.raw_node()
        since = self.hub.mark()
        t0 = time.monotonic()
        # The bystanders keep talking meanwhile (which also keeps them out of the probe).
        line = None
        i = 0
        while line is None and time.monotonic() - t0 < 15:
            await exchange(self.b, self.c, 0x6000 + 2 * (i % 1000))
            i += 1
            await asyncio.sleep(0.2)
            line = self.hub.wait_for_log(
                rf'event=node_disconnected peer=127\.0\.0\.1:{r.lport} .*'
                r'reason="no answer to the liveness probe"', since=since, timeout=0)
        self.assertIsNotNone(line, "half-open peer not detected within 15 s; tail:\n"
                             + self.hub.stderr_tail())
        # 2 s of silence, then 2 s for the answer: not before 3.5 s
        self.assertGreater(time.monotonic() - t0, 3.5)
        self.assertGreater(i, 5)
        await self.assert_gone(r, since, r'reason="no answer to the liveness probe"')


class ChurnTest(HubTestCase):
    """Many abrupt disconnects of every kind: the hub's descriptor count goes back to its
    baseline and it still routes."""

    async def _one(self, k):
        r = await RawTls.connect(self.hub, index=k % 4)
        try:
            kind = k % 5
            if kind == 0:                    # during the TLS handshake
                await r.handshake_step()
                r.reset()
                return
            await r.handshake()
            if kind == 1:                    # during the upgrade
                await r.send(upgrade_request()[:40])
                r.close()
                return
            await r.upgrade()
            await r.connect_node(bvlc.random_vmac(), bvlc.random_uuid(), msg_id=k)
            frame = ws_frame(BINARY, bvlc.npdu(k, self.b.vmac, NPDU))
            if kind == 2:                    # mid-frame, FIN
                await r.send(frame[:7])
                r.close()
            elif kind == 3:                  # mid-record, RST
                rec = r.seal(frame)
                await r.send_raw(rec[:10])
                r.reset()
            else:                            # after a whole message, FIN, no close_notify
                await r.send(frame)
                r.close()
        finally:
            r.sock.close()

    async def test_descriptors_return_to_baseline_after_churn(self):
        self.b = await connect_node(self.hub, name="b")
        c = await connect_node(self.hub, name="c", cert_index=1)
        baseline = await settled_fds(self.hub)
        sem = asyncio.Semaphore(CHURN_PARALLEL)

        async def guarded(k):
            async with sem:
                await self._one(k)

        await asyncio.wait_for(asyncio.gather(*(guarded(k) for k in range(CHURN))), 180)
        received = 0
        while True:   # what the churners managed to send to b, until b is quiet
            try:
                await asyncio.wait_for(self.b.ws.recv(), 1.0)
                received += 1
            except asyncio.TimeoutError:
                break
        deadline = time.monotonic() + 15
        while hub_fds(self.hub) != baseline and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        self.assertEqual(hub_fds(self.hub), baseline,
                         f"descriptors: baseline {baseline}, now {hub_fds(self.hub)}")
        # kind 4 sent 40 whole messages to b; kinds 2/3 sent none that could be complete.
        self.assertLessEqual(received, CHURN // 5)
        await exchange(self.b, c)
        await asyncio.gather(self.b.close(), c.close())


class CountersAfterFaultsTest(FaultCase):
    """One fault of each kind on a fresh hub, then SIGTERM: the counters add up."""
    HUB_ARGS = ("--heartbeat-timeout", "1", "--connect-wait", "1")

    def tearDown(self):
        pass   # this test stops the hub itself

    async def test_stopped_line_counts_faults(self):
        r = await self.raw_node()
        r.reset()
        r = await self.raw_node()
        r.close()
        r = await self.raw_node()      # half-open: probed, then closed
        r2 = await RawTls.connect(self.hub)
        self.raws.append(r2)
        await r2.handshake_step()
        r2.close()
        since = 0
        line = None
        deadline = time.monotonic() + 10
        while line is None and time.monotonic() < deadline:
            await exchange(self.b, self.c)
            await asyncio.sleep(0.2)
            line = self.hub.wait_for_log(r"no answer to the liveness probe", since, timeout=0)
        self.assertIsNotNone(line, self.hub.stderr_tail())
        await asyncio.gather(self.b.close(), self.c.close())
        self.nodes.clear()
        rc = await asyncio.get_running_loop().run_in_executor(
            None, lambda: self.hub.stop(signal.SIGTERM, timeout=5.0, check=False))
        self.hub_stopped = True
        self.assertEqual(rc, 0, self.hub.stderr_tail())
        c = hubproc.stopped_counters(self.hub)
        self.assertEqual(c["accepted"], 6, dict(c))
        self.assertEqual(c["nodes_connected"], 5, dict(c))
        self.assertEqual(c["liveness_timeouts"], 1, dict(c))
        self.assertEqual(c["peer_vanished"], 3, dict(c))
        gone = [ln for ln in self.hub.stderr_lines() if "event=node_gone" in ln]
        self.assertEqual(len(gone), 3, "".join(gone))   # RST node, FIN node, FIN in TLS


if __name__ == "__main__":
    hubproc.main()
