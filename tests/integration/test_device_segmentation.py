#!/usr/bin/python3
"""Segmented responses from the hub's BACnet device, over real TLS: a requester that accepts
segments (lib/bacnet_segments.py, independent of the hub's code) reads ALL of both objects
with a small max-APDU and gets, once joined, what an unsegmented read with 1476 octets gets;
requesters that take no segments, or too few, get the Std's Abort; a requester that never
acknowledges sees the window sent again until the device gives up, and the hub routes on.

    BSCHUB=build/bschub /usr/bin/python3 tests/integration/test_device_segmentation.py -v
"""

import asyncio
import time
import unittest

from lib import bacnet, bvlc, nodes
from lib import bacnet_segments as seg
from lib.nodes import HUB_VMAC, HubTestCase

INSTANCE = 4000
SEGMENT_TIMEOUT_MS = 300  # short, so the retry test takes about a second
RETRIES = 2
# ALL of the Device and the Network Port's fixed properties: the connection lists change as
# the test's own nodes come and go, so they stay out of the comparison.
PORT_FIXED = [bacnet.OBJECT_IDENTIFIER, bacnet.OBJECT_NAME, bacnet.OBJECT_TYPE,
              bacnet.PROPERTY_LIST, bacnet.STATUS_FLAGS, bacnet.NETWORK_TYPE, bacnet.MAC_ADDRESS,
              bacnet.LINK_SPEED, bacnet.MAX_BVLC_LENGTH_ACCEPTED, bacnet.MAX_NPDU_LENGTH_ACCEPTED,
              bacnet.SC_CONNECT_WAIT_TIMEOUT, bacnet.SC_DISCONNECT_WAIT_TIMEOUT,
              bacnet.SC_HEARTBEAT_TIMEOUT, bacnet.SC_HUB_FUNCTION_ENABLE,
              bacnet.SC_HUB_FUNCTION_ACCEPT_URIS, bacnet.SC_HUB_FUNCTION_BINDING]
RPM_ALL = [(bacnet.DEVICE, INSTANCE, [bacnet.PROP_ALL]), (bacnet.NETWORK_PORT, 1, PORT_FIXED)]


def rpm_all(invoke, max_apdu_code, max_segments_code=seg.MAX_SEGMENTS_MORE, accepted=True):
    data = bacnet.read_property_multiple(invoke, RPM_ALL)[6:]  # the service data only
    return seg.confirmed_segmented(invoke, bacnet.SERVICE_READ_PROPERTY_MULTIPLE, data,
                                   max_apdu_code, max_segments_code, accepted)


def setUpModule():
    nodes.setup_pki()


def tearDownModule():
    nodes.cleanup_pki()


class SegmentationTest(HubTestCase):
    HUB_ARGS = ("--workers", "2", "--device-instance", str(INSTANCE), "--device-name", "Hubster",
                "--device-segment-timeout", str(SEGMENT_TIMEOUT_MS),
                "--device-apdu-retries", str(RETRIES))

    async def whole(self, node):
        """RPM ALL with max-APDU 1476: one unsegmented ComplexACK."""
        req = seg.SegmentedRequester(node, HUB_VMAC)
        apdu = await req.request(rpm_all(1, 5))
        self.assertEqual(req.transcript.segments, [])
        self.assertEqual(apdu.pdu_type, bacnet.PDU_COMPLEX_ACK)
        return apdu

    async def test_segments_join_into_the_unsegmented_answer(self):
        n = await self.node()
        whole = await self.whole(n)
        for max_apdu, window in ((seg.MAX_APDU_128, 1), (seg.MAX_APDU_128, 4),
                                 (seg.MAX_APDU_206, 16), (seg.MAX_APDU_480, 3)):
            with self.subTest(max_apdu=max_apdu, window=window):
                req = seg.SegmentedRequester(n, HUB_VMAC, window=window)
                apdu = await req.request(rpm_all(0x40 + window, max_apdu))
                t = req.transcript
                self.assertGreater(len(t.segments), 1)
                # (A slow runner may see a window again: those copies are not kept.)
                self.assertEqual(t.kept, list(range(len(t.kept))))
                limit = seg.MAX_APDU_OCTETS[max_apdu]
                self.assertTrue(all(len(s.data) + 5 <= limit for s in t.segments))
                self.assertTrue(all(s.proposed_window >= window for s in t.segments))
                self.assertEqual(apdu.data, whole.data)
                self.assertEqual(bacnet.decode_rpm_ack(apdu), bacnet.decode_rpm_ack(whole))
                # Segment 0 is acknowledged alone, then a window at a time, then the last.
                self.assertEqual(t.acks[0], (0, window, False))
                self.assertEqual(t.acks[-1][0], len(t.kept) - 1)
                await self.all_silent(n)

    async def test_no_segments_accepted_or_too_many_needed_is_an_abort(self):
        n = await self.node()
        req = seg.SegmentedRequester(n, HUB_VMAC)
        apdu = await req.request(rpm_all(5, seg.MAX_APDU_128, accepted=False))
        self.assertEqual((apdu.pdu_type, apdu.invoke, apdu.reason),
                         (bacnet.PDU_ABORT, 5, bacnet.ABORT_SEGMENTATION_NOT_SUPPORTED))
        apdu = await req.request(rpm_all(6, seg.MAX_APDU_128, seg.MAX_SEGMENTS_2))
        self.assertEqual((apdu.pdu_type, apdu.invoke, apdu.reason),
                         (bacnet.PDU_ABORT, 6, seg.ABORT_APDU_TOO_LONG))
        await self.all_silent(n)

    async def test_a_requester_that_never_acks_gets_retries_then_silence(self):
        n, a, b = await self.nodes_n(3)
        req = seg.SegmentedRequester(n, HUB_VMAC, ack=False)
        await req.send_npdu(rpm_all(9, seg.MAX_APDU_128))
        times, firsts = [], []
        for _ in range(RETRIES + 1):  # segment 0, then once per retry
            apdu = await req.recv_apdu("segment 0 (again)")
            times.append(time.monotonic())
            firsts.append(apdu)
        self.assertEqual(len(set(firsts)), 1)
        s = seg.decode_segment(firsts[0])
        self.assertEqual((s.invoke, s.sequence, s.more), (9, 0, True))
        gaps = [later - earlier for earlier, later in zip(times, times[1:])]
        self.assertTrue(all(g >= SEGMENT_TIMEOUT_MS / 1000 * 0.8 for g in gaps), gaps)
        # Given up: nothing more, and no Abort either (clause 5.4.5, FinalTimeout).
        await n.assert_silent(timeout=3 * SEGMENT_TIMEOUT_MS / 1000)
        # The hub routes on, and the device answers again.
        await nodes.exchange(a, b)
        apdu = await seg.SegmentedRequester(n, HUB_VMAC).request(rpm_all(10, seg.MAX_APDU_206))
        self.assertEqual(apdu.pdu_type, bacnet.PDU_COMPLEX_ACK)

    async def test_a_nak_and_the_requesters_abort(self):
        n = await self.node()
        whole = await self.whole(n)
        req = seg.SegmentedRequester(n, HUB_VMAC)

        async def take(sequences):
            """These segments, in order; copies a slow runner's retries send are skipped."""
            got = []
            while len(got) < len(sequences):
                s = seg.decode_segment(await req.recv_apdu(f"segment {sequences[len(got)]}"))
                if s.sequence == sequences[len(got)]:
                    got.append(s)
            return got

        await req.send_npdu(rpm_all(12, seg.MAX_APDU_128))
        first, = await take([0])
        await req.send_npdu(seg.segment_ack(12, 0, 3))
        got = await take([1, 2, 3])
        # "Segment 2 was lost": a NAK naming 1 brings 2, 3 and 4.
        await req.send_npdu(seg.segment_ack(12, 1, 3, nak=True))
        again = await take([2, 3, 4])
        self.assertEqual(again[0].data, got[1].data)
        joined = first.data + got[0].data + b"".join(s.data for s in again)
        self.assertEqual(joined, whole.data[:len(joined)])
        # The requester's Abort ends it: no retry follows (on a slow runner a retry of 2..4
        # may cross the Abort; nothing else may come, and nothing after that).
        await req.send_npdu(seg.client_abort(12))
        req.timeout = 2 * SEGMENT_TIMEOUT_MS / 1000
        crossing = 0
        while True:
            try:
                apdu = await req.recv_apdu("nothing")
            except AssertionError:
                break  # silence
            self.assertIn(seg.decode_segment(apdu).sequence, (2, 3, 4))
            crossing += 1
            self.assertLessEqual(crossing, 3 * RETRIES)

    async def test_requesters_on_both_workers_at_once(self):
        # More than the 16 the device serves at once: the others are told to come back.
        clients = await self.nodes_n(20)
        whole = await self.whole(clients[0])
        answers = await asyncio.gather(*(
            seg.SegmentedRequester(c, HUB_VMAC, window=1 + i % 3).request_when_free(
                rpm_all(20 + i, seg.MAX_APDU_206))
            for i, c in enumerate(clients)))
        self.assertTrue(all(a.data == whole.data for a in answers))

    async def test_device_properties_say_it_segments(self):
        n = await self.node()
        req = seg.SegmentedRequester(n, HUB_VMAC)
        apdu = await req.request(bacnet.read_property_multiple(
            2, [(bacnet.DEVICE, INSTANCE, [107, 167, 10, 73])]))
        (_, results), = bacnet.decode_rpm_ack(apdu)
        self.assertEqual({r.prop: r.values for r in results},
                         {107: [1], 167: [1], 10: [SEGMENT_TIMEOUT_MS], 73: [RETRIES]})


if __name__ == "__main__":
    unittest.main()
