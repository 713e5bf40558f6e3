#!/usr/bin/env python3
"""Idle memory (--idle-trim): nodes that go quiet have their TLS record buffers' pages and
their output buffers released; afterwards the same nodes exchange unicasts and broadcasts of
every size (including bursts the hub packs into full 16 KiB TLS records) with nothing lost,
and heartbeats are answered before, between and after the trims. Short timer (0.5 s) so
it runs in seconds; every wait is bounded.

    BSCHUB=build/bschub /usr/bin/python3 tests/integration/test_idle_memory.py
"""
import asyncio
import time

from lib import bvlc, hubproc, nodes
from lib.bvlc import BROADCAST_VMAC
from lib.metrics import http_request, parse_metrics, total
from lib.nodes import HUB_MAX_BVLC, HubTestCase

NODE_MAX_BVLC = HUB_MAX_BVLC          # so the hub forwards the larger messages to us too
SIZES = (1, 100, 1400, 4000, 5900)    # NPDU octets: one page, several, most of a BVLC
BURST = 40                            # 1400-octet unicasts sent at once: full TLS records
TRIM_WAIT = 10.0                      # bound on waiting for the trim counter


def setUpModule():
    nodes.setup_pki()


def tearDownModule():
    nodes.cleanup_pki()


def payload(size, tag):
    return bytes((tag * 31 + i * 7) & 0xFF for i in range(size))


class TrimCase(HubTestCase):
    async def metric_sum(self, name):
        """`name` summed over the hub's /metrics (all workers)."""
        loop = asyncio.get_running_loop()
        status, _, body = await loop.run_in_executor(
            None, lambda: http_request(self.hub.metrics_port, "/metrics"))
        self.assertEqual(status, 200)
        return total(parse_metrics(body), name)


class IdleTrimTest(TrimCase):
    HUB_ARGS = ("--idle-trim", "0.5", "--metrics", "127.0.0.1:0")

    async def connect(self, name):
        """A node announcing the hub's max BVLC (the default 1600 would drop the big ones)."""
        return await self.node(name=name, msg_id=0x10, max_bvlc=NODE_MAX_BVLC)

    async def wait_trims(self, at_least, what):
        deadline = time.monotonic() + TRIM_WAIT
        while True:
            got = await self.metric_sum("bschub_idle_trims_total")
            if got >= at_least:
                return got
            if time.monotonic() > deadline:
                self.fail(f"{what}: idle_trims {got:.0f} < {at_least} after {TRIM_WAIT} s")
            await asyncio.sleep(0.1)

    async def exchange(self, trio, tag):
        """Unicasts both ways and broadcasts of every size, a burst, then heartbeats."""
        a, b, c = trio
        msg_id = tag * 0x100
        for size in SIZES:
            for src, dst in ((a, b), (b, a), (c, a)):
                msg_id += 1
                raw = bvlc.npdu(msg_id, dst.vmac, payload(size, msg_id))
                await src.send(raw)
                await dst.expect(bvlc.hub_unicast_rewrite(raw, src.vmac), f"unicast {size} B")
            msg_id += 1
            raw = bvlc.npdu(msg_id, BROADCAST_VMAC, payload(size, msg_id))
            await b.send(raw)
            expected = bvlc.hub_broadcast_rewrite(raw, b.vmac)
            await asyncio.gather(a.expect(expected, f"broadcast {size} B"),
                                 c.expect(expected, f"broadcast {size} B"))
        # A burst: the hub packs these into as few TLS records as it can (16 KiB each).
        burst = [bvlc.npdu(msg_id + 1 + i, b.vmac, payload(1400, i)) for i in range(BURST)]
        for raw in burst:
            await a.send(raw)
        for i, raw in enumerate(burst):
            await b.expect(bvlc.hub_unicast_rewrite(raw, a.vmac), f"burst message {i}")
        for n in trio:
            await n.heartbeat(tag)
        await self.all_silent(*trio, what="nothing more")

    async def test_trimmed_nodes_keep_exchanging_everything(self):
        trio = [await self.connect(f"node{i}") for i in range(3)]
        await self.exchange(trio, 1)
        trims = 0
        for cycle in range(2, 5):
            with self.subTest(cycle=cycle):
                # All three go quiet: each is trimmed (a busy one is looked at again later).
                trims = await self.wait_trims(trims + 3, f"cycle {cycle}, all quiet")
                # One heartbeat, then quiet again: trimmed again after its input.
                await trio[0].heartbeat(0x4000 + cycle)
                trims = await self.wait_trims(trims + 1, f"cycle {cycle}, after a heartbeat")
                await self.exchange(trio, cycle)
        self.assertEqual(await self.metric_sum("bschub_dropped_total"), 0)
        self.assertEqual(await self.metric_sum("bschub_heartbeats_answered_total"), 3 * 4 + 3)


class IdleTrimPlaintextTest(IdleTrimTest):
    TLS = False


class IdleTrimOffTest(TrimCase):
    HUB_ARGS = ("--idle-trim", "0", "--metrics", "127.0.0.1:0")

    async def test_no_trims_when_off(self):
        node = await self.node()
        await asyncio.sleep(1.0)
        await node.heartbeat()
        self.assertEqual(await self.metric_sum("bschub_idle_trims_total"), 0)


if __name__ == "__main__":
    hubproc.main()
