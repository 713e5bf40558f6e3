#!/usr/bin/env python3
"""Timers of the accepting side (docs/protocol.md §5), with short settings so they run fast:
handshake deadline, connect-wait, liveness probe (Heartbeat-Request after 2x the heartbeat
timeout of silence, then close if unanswered).

    BSCHUB=build/bschub /usr/bin/python3 tests/integration/test_timers.py
"""
import asyncio
import time

from lib import bvlc, hubproc, nodes
from lib.nodes import HubTestCase, Node, open_ws, tcp_connect


def setUpModule():
    nodes.setup_pki()


def tearDownModule():
    nodes.cleanup_pki()


class TimersTest(HubTestCase):
    HUB_ARGS = ("--handshake-timeout", "1", "--connect-wait", "1", "--heartbeat-timeout", "1")

    async def test_silent_tcp_connection_is_closed_at_the_handshake_deadline(self):
        since = len(self.hub.stderr_lines())
        sock = await tcp_connect(self.hub)
        t0 = time.monotonic()
        try:
            data = await asyncio.wait_for(asyncio.get_running_loop().sock_recv(sock, 100), 5.0)
        finally:
            sock.close()
        elapsed = time.monotonic() - t0
        self.assertEqual(data, b"", "the hub sent something to a silent TCP peer")
        self.assertGreater(elapsed, 0.5)
        self.assertLess(elapsed, 4.0)
        self.assertIsNotNone(await self.wait_log(r"event=handshake_timeout.*phase=tls", since))

    async def test_no_connect_request_closes_after_connect_wait(self):
        since = len(self.hub.stderr_lines())
        ws, lport = await open_ws(self.hub)
        node = Node(ws, bvlc.random_vmac(), bvlc.random_uuid(), lport, "silent")
        self.nodes.append(node)
        t0 = time.monotonic()
        await node.expect_closed(timeout=5.0)
        self.assertGreater(time.monotonic() - t0, 0.5)
        self.assertIsNotNone(await self.wait_log(r"event=connect_wait_expired", since))

    async def test_silent_node_is_probed_and_kept_when_it_answers(self):
        node = await self.node()
        # 2 x 1 s of silence: the hub asks with a Heartbeat-Request.
        req = await node.recv(timeout=5.0, what="liveness Heartbeat-Request")
        self.assertEqual(len(req), 4)
        self.assertEqual(req[0], bvlc.HEARTBEAT_REQUEST)
        await node.send(bvlc.heartbeat_ack(int.from_bytes(req[2:4], "big")))
        # Answered: still connected and routable.
        await node.heartbeat()

    async def test_silent_node_that_ignores_the_probe_is_closed(self):
        node = await self.node()
        since = len(self.hub.stderr_lines())
        req = await node.recv(timeout=5.0, what="liveness Heartbeat-Request")
        self.assertEqual(req[0], bvlc.HEARTBEAT_REQUEST)
        await node.expect_closed(timeout=5.0)
        self.assertIsNotNone(await self.wait_log(r"no answer to the liveness probe", since))


if __name__ == "__main__":
    hubproc.main()
