#!/usr/bin/python3
"""Floods against a running bschub: one node sends Heartbeat-Requests, or broadcasts, as fast
as a blocking TLS socket can write them (many frames per write), while two other nodes run
a numbered echo exchange. The echo exchange must lose nothing and keep going; the hub's
memory and the flooder's queued output stay bounded; the read budget (docs/bad-input.md,
"Floods") is seen engaging in the `event=stopped` counters.

    BSCHUB=build/bschub /usr/bin/python3 tests/integration/test_flood.py [-v]
"""
import asyncio
import socket
import ssl
import threading
import time

from lib import bvlc, hubproc, nodes, procstat
from lib.bvlc import BROADCAST_VMAC
from lib.nodes import HubTestCase, bsc_connect, node_ctx
from lib.wsframe import BINARY, ws_frame

FLOOD_SECONDS = 3.0
MIN_ROUND_TRIPS = 20          # during the flood; a starved loop would manage ~0
# Hub RSS growth allowed during a flood: the pending-output bounds (a few MiB) and batches
# stay far below it. Sanitizer builds keep freed memory in quarantine (ASan: 256 MiB) and
# add shadow memory, so they get more; a leak per message would still pass any of these
# within a second at these rates.
RSS_GROWTH_LIMIT_KB = 96 * 1024
RSS_GROWTH_LIMIT_SANITIZED_KB = 768 * 1024


def setUpModule():
    nodes.setup_pki()


def tearDownModule():
    nodes.cleanup_pki()


def rss_growth_limit_kb(pid):
    return RSS_GROWTH_LIMIT_SANITIZED_KB if procstat.sanitized(pid) else RSS_GROWTH_LIMIT_KB


def heartbeat_frame(i):
    return ws_frame(BINARY, bvlc.heartbeat_request(i & 0xFFFF))


def raw_node(hub, cert_index):
    """A node on a blocking TLS socket of our own, past Connect-Accept: (socket, VMAC)."""
    vmac = bvlc.random_vmac()
    return bsc_connect(hub.port, node_ctx(cert_index), vmac=vmac, timeout=10), vmac


class Flooder(threading.Thread):
    """A node on a blocking TLS socket that writes `frame` as fast as it can, many per
    write, until stop is set. With read_acks it also reads everything the hub sends."""

    def __init__(self, hub, frame_for, read_acks):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.sent = 0
        self.received_octets = 0
        self.error = None
        self.sock, self.vmac = raw_node(hub, 3)
        self.frames_per_write = 2000
        self.buffer = b"".join(frame_for(i) for i in range(self.frames_per_write))
        self.read_acks = read_acks
        if read_acks:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        try:
            while not self.stop.is_set():
                data = self.sock.recv(1 << 16)
                if not data:
                    return
                self.received_octets += len(data)
        except (OSError, ValueError):
            pass

    def run(self):
        self.sock.settimeout(0.5)
        try:
            while not self.stop.is_set():
                try:
                    self.sock.sendall(self.buffer)
                except socket.timeout:
                    continue   # the hub is not reading us this instant: try again
                self.sent += self.frames_per_write
        except (OSError, ssl.SSLError) as exc:
            self.error = exc

    def finish(self):
        self.stop.set()
        self.join(10)
        try:
            self.sock.close()
        except OSError:
            pass


class FloodCase(HubTestCase):
    def assert_rss_growth_bounded(self, rss0):
        pid = self.hub.proc.pid
        self.assertLess(procstat.rss_kb(pid) - rss0, rss_growth_limit_kb(pid),
                        "hub RSS grew (KiB)")

    async def echo_during(self, flooder, seconds):
        """a -> b -> a numbered round trips for `seconds` while the flooder runs; every
        request and reply must arrive byte-exact. Returns the number of round trips."""
        asyncio.get_running_loop().set_debug(False)
        a, b = await self.nodes_n(2)
        flooder.start()
        rounds = 0
        t0 = time.monotonic()
        try:
            while time.monotonic() - t0 < seconds:
                self.assertTrue(flooder.is_alive(), f"flooder stopped: {flooder.error}")
                payload = bytes([0x01, 0x00]) + rounds.to_bytes(4, "big")
                req = bvlc.npdu(rounds & 0xFFFF, b.vmac, payload)
                await a.send(req)
                await b.expect(bvlc.hub_unicast_rewrite(req, a.vmac), f"request {rounds}")
                rep = bvlc.npdu(rounds & 0xFFFF, a.vmac, payload)
                await b.send(rep)
                await a.expect(bvlc.hub_unicast_rewrite(rep, b.vmac), f"reply {rounds}")
                rounds += 1
        finally:
            flooder.finish()
        return rounds


class HeartbeatFloodTest(FloodCase):
    HUB_ARGS = ("--max-pending-output", str(1 << 20))

    async def test_heartbeat_flood_reading_acks(self):
        rss0 = procstat.rss_kb(self.hub.proc.pid)
        f = Flooder(self.hub, heartbeat_frame, read_acks=True)
        rounds = await self.echo_during(f, FLOOD_SECONDS)
        self.assertIsNone(f.error, f"flooder failed: {f.error}")
        self.assertGreater(f.sent, 10000, "the flooder did not get going")
        self.assertGreaterEqual(rounds, MIN_ROUND_TRIPS,
                                f"echo pair starved: {rounds} round trips next to "
                                f"{f.sent} heartbeats")
        self.assertGreater(f.received_octets, 0, "the flooder got no Heartbeat-ACKs")
        self.assert_rss_growth_bounded(rss0)

    async def test_heartbeat_flood_not_reading_is_bounded(self):
        rss0 = procstat.rss_kb(self.hub.proc.pid)
        f = Flooder(self.hub, heartbeat_frame, read_acks=False)
        rounds = await self.echo_during(f, FLOOD_SECONDS)
        self.assertGreaterEqual(rounds, MIN_ROUND_TRIPS)
        self.assert_rss_growth_bounded(rss0)
        # the ACKs it never read: at most --max-pending-output queued, the rest dropped
        # (counted in drop_output_full, checked at the end of the class)

    @classmethod
    def check_stopped_counters(cls, c):
        assert c["read_budget_pauses"] > 0, dict(c)
        assert c["drop_output_full"] > 0, dict(c)
        assert c["heartbeats_answered"] > 20000, dict(c)


def read_until_quiet(sock):
    """Reads a raw node's socket until it has been quiet for a second; returns the octets."""
    sock.settimeout(1.0)
    octets = 0
    while True:
        try:
            data = sock.recv(1 << 16)
        except socket.timeout:
            return octets
        if not data:
            raise AssertionError("the hub closed the raw node")
        octets += len(data)


def expect_heartbeat_ack(sock, msg_id=0x7777):
    """On a raw node with nothing left to read: one Heartbeat-Request, one Heartbeat-ACK."""
    sock.sendall(heartbeat_frame(msg_id))
    ack = bvlc.heartbeat_ack(msg_id)
    want = bytes([0x82, len(ack)]) + ack   # an unmasked binary frame from the hub
    sock.settimeout(5.0)
    got = b""
    while len(got) < len(want):
        data = sock.recv(len(want) - len(got))
        if not data:
            raise AssertionError("the hub closed the raw node")
        got += data
    if got != want:
        raise AssertionError(f"raw node: expected a Heartbeat-ACK, got {got.hex()}")


async def count_copies_until_quiet(node, flooder_vmac):
    """Reads `node` until it has been quiet for a second; every message must be a copy of
    the flooder's broadcasts. Returns how many there were."""
    copies = 0
    while True:
        try:
            m = bvlc.Message.decode(await asyncio.wait_for(node.ws.recv(), 1.0))
        except asyncio.TimeoutError:
            return copies
        assert (m.dest, m.orig) == (BROADCAST_VMAC, flooder_vmac), f"not a copy: {m}"
        copies += 1


class BroadcastFloodTest(FloodCase):
    # Every broadcast is copied to the echo pair too, often faster than a Python client reads:
    # copies may fill half of each one's output bound and the rest are dropped
    # (drop_broadcast_share), which leaves the other half for the echo exchange. So the
    # exchange runs open loop here: `a` sends RATE numbered requests a second during the
    # flood, `b` echoes each at once, and afterwards every reply must have arrived, in order,
    # once the pair has read through the copies queued before it. Whether the pair falls
    # behind depends on how fast this build of the hub is (under TSan it may not), so a
    # silent node reads nothing during the flood: once the kernel's buffers (a few MiB) are
    # full, its copies must be dropped at half its bound; it must not be closed, since it
    # reads again well within --slow-reader-timeout, and then it must still answer.
    HUB_ARGS = ("--max-pending-output", str(1 << 20))
    RATE = 20

    async def test_broadcast_flood(self):
        asyncio.get_running_loop().set_debug(False)
        a, b = await self.nodes_n(2)
        silent, _ = raw_node(self.hub, 4)
        rss0 = procstat.rss_kb(self.hub.proc.pid)
        # 100 octets of NPDU, whose content does not matter here: copies fill buffers by the
        # octet, so the silent node falls behind within a few tens of thousands of them.
        npdu = bytes.fromhex("01200000") + bytes(96)
        f = Flooder(self.hub, lambda i: ws_frame(BINARY, bvlc.npdu(i, BROADCAST_VMAC, npdu)),
                    read_acks=True)
        copies = 0
        requests, replies = [], []

        async def read(node, on_unicast):
            nonlocal copies
            while True:
                m = bvlc.Message.decode(await node.ws.recv())
                if m.dest == BROADCAST_VMAC and m.orig == f.vmac:
                    copies += 1
                else:
                    await on_unicast(m)

        async def b_got(m):
            requests.append(int.from_bytes(m.payload[2:], "big"))
            await b.ws.send(bvlc.npdu(m.msg_id, a.vmac, m.payload))

        async def a_got(m):
            self.assertEqual(m.orig, b.vmac)
            replies.append(int.from_bytes(m.payload[2:], "big"))

        readers = [asyncio.ensure_future(read(b, b_got)), asyncio.ensure_future(read(a, a_got))]
        f.start()
        sent = 0
        try:
            t0 = time.monotonic()
            while time.monotonic() - t0 < FLOOD_SECONDS:
                await a.ws.send(bvlc.npdu(sent, b.vmac, bytes([1, 0]) + sent.to_bytes(4, "big")))
                sent += 1
                await asyncio.sleep(1 / self.RATE)
            self.assertTrue(f.is_alive(), f"flooder stopped early: {f.error}")
            f.finish()
            silent_octets = asyncio.ensure_future(asyncio.to_thread(read_until_quiet, silent))
            deadline = time.monotonic() + 60
            while len(replies) < sent and time.monotonic() < deadline:
                self.assertTrue(all(not r.done() for r in readers),
                                [r.exception() for r in readers if r.done()])
                await asyncio.sleep(0.1)
        finally:
            f.finish()
            for r in readers:
                r.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
        self.assertIsNone(f.error, f"flooder failed: {f.error}")
        self.assertGreater(f.sent, 10000, "the flooder did not get going")
        self.assertGreater(copies, 0, "no broadcast copy reached the echo pair")
        self.assertEqual(requests, list(range(sent)), "requests lost or reordered")
        self.assertEqual(replies, list(range(sent)), "replies lost or reordered")
        self.assert_rss_growth_bounded(rss0)
        # Copies queued behind the last reply: only copies, then both answer at once.
        for n in (a, b):
            await count_copies_until_quiet(n, f.vmac)
        await a.heartbeat()
        await b.heartbeat()
        self.assertGreater(await silent_octets, 0, "no broadcast copy reached the silent node")
        await asyncio.to_thread(expect_heartbeat_ack, silent)
        silent.close()

    @classmethod
    def check_stopped_counters(cls, c):
        assert c["read_budget_pauses"] > 0, dict(c)
        assert c["broadcast_in"] > 10000, dict(c)
        assert c["drop_broadcast_share"] > 0, dict(c)
        assert c["slow_reader_closed"] == 0, dict(c)


if __name__ == "__main__":
    hubproc.main()
