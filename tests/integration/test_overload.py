#!/usr/bin/env python3
"""Overload policies against a running bschub, with the independent Python client:
a node that stops reading (slow reader) keeps its queued output bounded, its excess frames
are dropped and counted, it is disconnected once its output stays full, and other nodes'
traffic flows meanwhile.

    BSCHUB=build/bschub /usr/bin/python3 tests/integration/test_overload.py
"""
import asyncio
import time

from lib import bvlc, hubproc, nodes
from lib.nodes import HubTestCase

NPDU_1400 = bytes([0x01, 0x04]) + bytes(1398)


def setUpModule():
    nodes.setup_pki()


def tearDownModule():
    nodes.cleanup_pki()


class SlowReaderTest(HubTestCase):
    HUB_ARGS = ("--max-pending-output", "65536", "--slow-reader-timeout", "2")

    async def test_slow_reader_is_bounded_dropped_then_disconnected(self):
        sender, slow, c, d = await self.nodes_n(4)
        since = len(self.hub.stderr_lines())
        # The slow node stops reading from its socket altogether.
        slow.ws.transport.pause_reading()

        stop = asyncio.Event()

        async def flood():
            msg = bvlc.npdu(0x1111, slow.vmac, NPDU_1400)
            sent = 0
            while not stop.is_set():
                for _ in range(50):
                    await sender.send(msg)
                    sent += 1
                await asyncio.sleep(0.005)
            return sent

        flooder = asyncio.create_task(flood())
        try:
            # Meanwhile a healthy pair exchanges numbered messages in both directions.
            t0 = time.monotonic()
            for i in range(200):
                payload = bytes([0x01, 0x00]) + i.to_bytes(4, "big")
                await c.send(bvlc.npdu(i, d.vmac, payload))
                got = await d.recv(what=f"message {i} from c")
                self.assertEqual(got, bvlc.hub_unicast_rewrite(bvlc.npdu(i, d.vmac, payload), c.vmac))
                await d.send(bvlc.npdu(i, c.vmac, payload))
                got = await c.recv(what=f"message {i} from d")
                self.assertEqual(got, bvlc.hub_unicast_rewrite(bvlc.npdu(i, c.vmac, payload), d.vmac))
            healthy_s = time.monotonic() - t0
            line = await self.wait_log(r"event=slow_reader", since, timeout=10.0)
            self.assertIsNotNone(line, "the hub never disconnected the node that stopped reading")
            self.assertIn(bvlc.vmac_str(slow.vmac).upper(), line.upper())
        finally:
            stop.set()
            sent = await flooder
        self.assertGreater(sent, 100)
        # 400 round trips next to the flood, on a busy 2-core machine: seconds, not tens.
        self.assertLess(healthy_s, 8.0, "the healthy pair was starved by the flood")
        # The sender itself is undisturbed.
        await sender.heartbeat()
        await c.heartbeat()

    @classmethod
    def check_stopped_counters(cls, c):
        assert c["drop_output_full"] > 0, dict(c)
        assert c["slow_reader_closed"] == 1, dict(c)


if __name__ == "__main__":
    hubproc.main()
