"""A BACnet requester that accepts segmented ComplexACKs, for tests: the requesting side of
ASHRAE 135 clause 5.4.4 (SEGMENTED_CONF) reduced to what a test needs, written from the Std
and independent of the hub's C++ code.

The requester sends a confirmed request with segmented-response-accepted set, answers the
first segment with a Segment-ACK that sets its window (clause 5.3: at most the window the
server proposed), acknowledges each full window and the last segment, NAKs a gap with the
last segment received in order, and joins the segments into the unsegmented ComplexACK.

It works on any object with `send(bytes)` and `recv(timeout=..., what=...)` that carry
BVLC-SC frames (lib/nodes.Node), so many requesters can run at once (one per node).

    req = SegmentedRequester(node, HUB_VMAC, window=4)
    apdu = await req.request(bacnet_segments.confirmed_segmented(7, 14, data, 1, 7))
"""

import asyncio
from dataclasses import dataclass, field
from typing import List, Optional

from . import bacnet, bvlc

# Max-segments-accepted codes (clause 20.1.2.4): 0 unspecified, 1..6 = 2..64, 7 = more.
MAX_SEGMENTS_2, MAX_SEGMENTS_64, MAX_SEGMENTS_MORE = 1, 6, 7
# Max-APDU codes (clause 20.1.2.5).
MAX_APDU_50, MAX_APDU_128, MAX_APDU_206, MAX_APDU_480 = 0, 1, 2, 3
MAX_APDU_OCTETS = [50, 128, 206, 480, 1024, 1476]

ABORT_BUFFER_OVERFLOW = 1
ABORT_OUT_OF_RESOURCES = 9
ABORT_APDU_TOO_LONG = 11


def confirmed_segmented(invoke: int, service: int, data: bytes, max_apdu_code: int,
                        max_segments_code: int, segmented_response_accepted=True) -> bytes:
    """A whole (unsegmented) confirmed-request NPDU that may accept a segmented answer."""
    first = 0x02 if segmented_response_accepted else 0x00
    return (bacnet.npdu_header(expecting_reply=True)
            + bytes([first, (max_segments_code << 4) | max_apdu_code, invoke, service]) + data)


def segment_ack(invoke: int, sequence: int, window: int, nak=False) -> bytes:
    """A Segment-ACK NPDU from a client (server bit clear)."""
    return bacnet.npdu_header() + bytes([0x40 | (0x02 if nak else 0), invoke, sequence, window])


def client_abort(invoke: int, reason: int = 0) -> bytes:
    """An Abort NPDU from a client (server bit clear)."""
    return bacnet.npdu_header() + bytes([0x70, invoke, reason])


@dataclass
class Segment:
    invoke: int
    sequence: int
    more: bool
    proposed_window: int
    service: int
    data: bytes


def decode_segment(apdu: bytes) -> Optional[Segment]:
    """The fields of a segmented ComplexACK, or None for any other APDU."""
    if len(apdu) < 5 or apdu[0] >> 4 != bacnet.PDU_COMPLEX_ACK or not apdu[0] & 0x08:
        return None
    return Segment(apdu[1], apdu[2], bool(apdu[0] & 0x04), apdu[3], apdu[4], apdu[5:])


@dataclass
class Transcript:
    """What one request saw: every segment in arrival order (retransmissions included), the
    sequence numbers it kept, and every Segment-ACK sent."""
    segments: List[Segment] = field(default_factory=list)
    kept: List[int] = field(default_factory=list)
    acks: List[tuple] = field(default_factory=list)  # (sequence, window, nak)


class SegmentedRequester:
    """One node's requester. `window`: the actual window it takes (at most the proposed one).
    `ack=False`: it never acknowledges (to watch the server retry and give up)."""

    def __init__(self, node, server_vmac: bytes, window: int = 4, ack: bool = True,
                 timeout: float = 5.0, msg_id: int = 0x5100):
        self.node, self.server, self.window, self.ack = node, server_vmac, window, ack
        self.timeout, self.msg_id = timeout, msg_id
        self.transcript = Transcript()

    async def send_npdu(self, npdu: bytes):
        self.msg_id = (self.msg_id + 1) & 0xFFFF
        await self.node.send(bvlc.npdu(self.msg_id, self.server, npdu))

    async def recv_apdu(self, what: str) -> bytes:
        while True:
            m = bvlc.Message.decode(await self.node.recv(timeout=self.timeout, what=what))
            if m.function == bvlc.ENCAPSULATED_NPDU and m.orig == self.server and m.dest is None:
                return bacnet.decode_npdu(m.payload).apdu

    async def request(self, npdu: bytes) -> bacnet.Apdu:
        """Sends `npdu` and returns the answer, decoded by lib/bacnet.decode_apdu: a segmented
        ComplexACK comes back joined, as if it had been sent whole."""
        self.transcript = Transcript()
        await self.send_npdu(npdu)
        apdu = await self.recv_apdu("the answer")
        first = decode_segment(apdu)
        if first is None:
            return bacnet.decode_apdu(apdu)
        return await self._receive_segments(first)

    async def request_when_free(self, npdu: bytes, attempts: int = 20,
                                pause: float = 0.2) -> bacnet.Apdu:
        """request(), asked again after `pause` while the device answers Abort
        out-of-resources (it sends at most 16 segmented responses at once): for tests with
        many requesters."""
        for _ in range(attempts - 1):
            apdu = await self.request(npdu)
            if (apdu.pdu_type, apdu.reason) != (bacnet.PDU_ABORT, ABORT_OUT_OF_RESOURCES):
                return apdu
            await asyncio.sleep(pause)
        return await self.request(npdu)

    async def _receive_segments(self, first: Segment) -> bacnet.Apdu:
        t = self.transcript
        t.segments.append(first)
        t.kept.append(0)
        if first.sequence != 0:
            raise AssertionError(f"the first segment has sequence number {first.sequence}")
        invoke, service = first.invoke, first.service
        window = max(1, min(self.window, first.proposed_window))
        data, last_in_order, more = bytearray(first.data), 0, first.more
        await self._ack(invoke, 0, window)
        initial = 1  # the first sequence number of the window now expected
        while more:
            apdu = await self.recv_apdu(f"segment {(last_in_order + 1) % 256}")
            seg = decode_segment(apdu)
            if seg is None:
                raise AssertionError(f"not a segment: {apdu.hex()}")
            t.segments.append(seg)
            if seg.invoke != invoke or seg.service != service:
                raise AssertionError(f"a segment of another transaction: {seg}")
            expected = (last_in_order + 1) % 256
            if seg.sequence != expected:
                if 0 < (seg.sequence - expected) % 256 < window:  # ahead: a gap, NAK it
                    await self._ack(invoke, last_in_order, window, nak=True)
                    initial = expected
                continue  # else behind: a retransmission of what we have
            t.kept.append(seg.sequence)
            data += seg.data
            last_in_order, more = seg.sequence, seg.more
            if not more or (seg.sequence - initial) % 256 == window - 1:
                await self._ack(invoke, seg.sequence, window)
                initial = (seg.sequence + 1) % 256
        return bacnet.decode_apdu(bytes([bacnet.PDU_COMPLEX_ACK << 4, invoke, service]) + data)

    async def _ack(self, invoke: int, sequence: int, window: int, nak=False):
        if not self.ack:
            return
        self.transcript.acks.append((sequence, window, nak))
        await self.send_npdu(segment_ack(invoke, sequence, window, nak))
