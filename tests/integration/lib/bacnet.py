"""Small, independent BACnet NPDU/APDU encoder and decoder for the device tests.

Written from ASHRAE 135 clauses 6.2 (NPDU), 20.1 (APDU headers) and 20.2 (tags and values)
as summarised in docs/bacnet-device.md; no code is shared with the C++ codec, so it checks
what the hub's device sends independently. Only what the tests need: Who-Is, Who-Has, ReadProperty,
ReadPropertyMultiple, ReadRange (clause 15.8), DeviceCommunicationControl (clause 16.1), a
WriteProperty to be refused, and the answers to them; and the SC Network Port's two
connection lists (BACnetSCHubFunctionConnection and BACnetSCFailedConnectionRequest,
docs/bacnet-device.md §4.2), written from that ASN.1.
"""

import struct
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

# Object types, property identifiers, services (clause 21).
DEVICE = 8
NETWORK_PORT = 56
WILDCARD_INSTANCE = 0x3FFFFF

PROP_ALL = 8
PROP_OPTIONAL = 80
PROP_REQUIRED = 105
OBJECT_IDENTIFIER = 75
OBJECT_LIST = 76
OBJECT_NAME = 77
OBJECT_TYPE = 79
PROTOCOL_REVISION = 139
PROPERTY_LIST = 371
DEVICE_UUID = 507
VENDOR_IDENTIFIER = 120
MAC_ADDRESS = 423
NETWORK_NUMBER = 425
NETWORK_TYPE = 427
SC_HUB_FUNCTION_ENABLE = 4194322
SC_HUB_FUNCTION_ACCEPT_URIS = 4194319
SC_HUB_FUNCTION_BINDING = 4194320
SC_HUB_FUNCTION_CONNECTION_STATUS = 4194321
SC_FAILED_CONNECTION_REQUESTS = 4194315
PRESENT_VALUE = 85
DEVICE_ADDRESS_BINDING = 30
LOCATION = 58
MAX_APDU_LENGTH_ACCEPTED = 62
PROTOCOL_SERVICES_SUPPORTED = 97
SEGMENTATION_SUPPORTED = 107
STATUS_FLAGS = 111
VENDOR_NAME = 121
LINK_SPEED = 420
MAX_BVLC_LENGTH_ACCEPTED = 4194304
MAX_NPDU_LENGTH_ACCEPTED = 4194305
SC_CONNECT_WAIT_TIMEOUT = 4194308
SC_DISCONNECT_WAIT_TIMEOUT = 4194314
SC_HEARTBEAT_TIMEOUT = 4194323

# Required properties of a Device object that segments (clause 12.11): those of every device,
# and Max_Segments_Accepted (167) and APDU_Segment_Timeout (10).
DEVICE_REQUIRED = {75, 77, 79, 112, 121, 120, 70, 44, 12, 98, 139, 97, 96, 76, 62, 107, 11, 73,
                   30, 155, 371, 167, 10}

SERVICE_READ_PROPERTY = 12
SERVICE_READ_PROPERTY_MULTIPLE = 14
SERVICE_WRITE_PROPERTY = 15
SERVICE_DCC = 17
SERVICE_READ_RANGE = 26
SERVICE_I_AM = 0
SERVICE_I_HAVE = 1
SERVICE_WHO_HAS = 7
SERVICE_WHO_IS = 8

PDU_CONFIRMED, PDU_UNCONFIRMED, PDU_SIMPLE_ACK, PDU_COMPLEX_ACK = 0, 1, 2, 3
PDU_SEGMENT_ACK, PDU_ERROR, PDU_REJECT, PDU_ABORT = 4, 5, 6, 7

ERROR_CLASS_OBJECT, ERROR_CLASS_PROPERTY, ERROR_CLASS_SECURITY, ERROR_CLASS_SERVICES = 1, 2, 4, 5
UNKNOWN_OBJECT, UNKNOWN_PROPERTY = 31, 32
PROPERTY_IS_NOT_A_LIST, PROPERTY_IS_NOT_AN_ARRAY = 22, 50
PASSWORD_FAILURE, OPTIONAL_FUNCTIONALITY_NOT_SUPPORTED = 26, 45
DCC_ENABLE, DCC_DISABLE, DCC_DISABLE_INITIATION = 0, 1, 2
REJECT_UNRECOGNIZED_SERVICE = 9
ABORT_SEGMENTATION_NOT_SUPPORTED = 4

MAX_APDU_1476 = 5  # max-APDU code (clause 20.1.2.5)


# --- encoding -------------------------------------------------------------------------

def _uint_octets(v: int) -> bytes:
    n = 1
    while v >> (8 * n):
        n += 1
    return v.to_bytes(n, "big")


def _tag(number: int, context: bool, length: int) -> bytes:
    cls = 0x08 if context else 0x00
    head = (number << 4) if number < 15 else 0xF0
    ext = b"" if number < 15 else bytes([number])
    if length < 5:
        return bytes([head | cls | length]) + ext
    if length < 254:
        return bytes([head | cls | 5]) + ext + bytes([length])
    return bytes([head | cls | 5]) + ext + b"\xfe" + length.to_bytes(2, "big")


def ctx_unsigned(number: int, v: int) -> bytes:
    c = _uint_octets(v)
    return _tag(number, True, len(c)) + c


def ctx_object_id(number: int, obj_type: int, instance: int) -> bytes:
    return _tag(number, True, 4) + ((obj_type << 22) | instance).to_bytes(4, "big")


def opening(number: int) -> bytes:
    return bytes([(number << 4) | 0x0E])


def closing(number: int) -> bytes:
    return bytes([(number << 4) | 0x0F])


def npdu_header(expecting_reply=False, priority=0, global_broadcast=False) -> bytes:
    control = (0x04 if expecting_reply else 0) | priority
    if global_broadcast:
        return bytes([1, control | 0x20]) + b"\xff\xff\x00\xff"  # DNET, DLEN 0, hop count
    return bytes([1, control])


def who_is(low: Optional[int] = None, high: Optional[int] = None) -> bytes:
    """A Who-Is NPDU, as a global broadcast."""
    apdu = bytes([0x10, SERVICE_WHO_IS])
    if low is not None:
        apdu += ctx_unsigned(0, low) + ctx_unsigned(1, high)
    return npdu_header(global_broadcast=True) + apdu


def who_has(name: Optional[str] = None, obj: Optional[Tuple[int, int]] = None) -> bytes:
    """A Who-Has NPDU (no range), for an object name or identifier, as a global broadcast."""
    if name is not None:
        text = b"\x00" + name.encode()
        spec = _tag(3, True, len(text)) + text
    else:
        spec = ctx_object_id(2, *obj)
    return npdu_header(global_broadcast=True) + bytes([0x10, SERVICE_WHO_HAS]) + spec


def confirmed(invoke: int, service: int, data: bytes, max_apdu_code=MAX_APDU_1476,
              priority=0) -> bytes:
    """A whole confirmed-request NPDU (unsegmented, no segmented response accepted)."""
    return (npdu_header(expecting_reply=True, priority=priority)
            + bytes([0x00, max_apdu_code, invoke, service]) + data)


def read_property(invoke: int, obj_type: int, instance: int, prop: int,
                  index: Optional[int] = None, **kw) -> bytes:
    data = ctx_object_id(0, obj_type, instance) + ctx_unsigned(1, prop)
    if index is not None:
        data += ctx_unsigned(2, index)
    return confirmed(invoke, SERVICE_READ_PROPERTY, data, **kw)


def read_property_multiple(invoke: int, specs, **kw) -> bytes:
    """specs: [(obj_type, instance, [prop or (prop, index), ...]), ...]"""
    data = b""
    for obj_type, instance, props in specs:
        data += ctx_object_id(0, obj_type, instance) + opening(1)
        for p in props:
            prop, index = p if isinstance(p, tuple) else (p, None)
            data += ctx_unsigned(0, prop)
            if index is not None:
                data += ctx_unsigned(1, index)
        data += closing(1)
    return confirmed(invoke, SERVICE_READ_PROPERTY_MULTIPLE, data, **kw)


def write_property_name(invoke: int, instance: int, name: str) -> bytes:
    """WriteProperty of a Device's Object_Name (the device must refuse the service)."""
    text = b"\x00" + name.encode()
    data = (ctx_object_id(0, DEVICE, instance) + ctx_unsigned(1, OBJECT_NAME) + opening(3)
            + _tag(7, False, len(text)) + text + closing(3))
    return confirmed(invoke, SERVICE_WRITE_PROPERTY, data)


def read_range(invoke: int, obj_type: int, instance: int, prop: int,
               position: Optional[Tuple[int, int]] = None,
               sequence: Optional[Tuple[int, int]] = None, **kw) -> bytes:
    """ReadRange of a whole list, or by position / by sequence number (reference, count)."""
    data = ctx_object_id(0, obj_type, instance) + ctx_unsigned(1, prop)
    for number, rng in ((3, position), (6, sequence)):
        if rng is not None:
            ref, count = rng
            c = count.to_bytes(1 if -128 <= count < 128 else 2, "big", signed=True)
            data += (opening(number) + _tag(2, False, len(_uint_octets(ref)))
                     + _uint_octets(ref) + _tag(3, False, len(c)) + c + closing(number))
    return confirmed(invoke, SERVICE_READ_RANGE, data, **kw)


def device_communication_control(invoke: int, state: int, minutes: Optional[int] = None,
                                 password: Optional[str] = None) -> bytes:
    data = b"" if minutes is None else ctx_unsigned(0, minutes)
    data += _tag(1, True, 1) + bytes([state])
    if password is not None:
        text = b"\x00" + password.encode()
        data += _tag(2, True, len(text)) + text
    return confirmed(invoke, SERVICE_DCC, data)


def segmented_read_property(invoke: int, instance: int) -> bytes:
    """The first segment of a segmented ReadProperty request (the device must Abort)."""
    data = ctx_object_id(0, DEVICE, instance) + ctx_unsigned(1, OBJECT_NAME)
    return (npdu_header(expecting_reply=True)
            + bytes([0x08 | 0x04, MAX_APDU_1476, invoke, 0, 1, SERVICE_READ_PROPERTY]) + data)


# --- decoding -------------------------------------------------------------------------

class DecodeError(ValueError):
    pass


@dataclass
class Tag:
    number: int
    context: bool
    kind: str          # "primitive", "open", "close"
    content: bytes = b""
    value: int = 0     # an application BOOLEAN's value


def read_tag(buf: bytes, off: int) -> Tuple[Tag, int]:
    if off >= len(buf):
        raise DecodeError("data ends before a tag")
    first = buf[off]
    off += 1
    number = first >> 4
    context = bool(first & 0x08)
    lvt = first & 0x07
    if number == 15:
        number = buf[off]
        off += 1
    if context and lvt == 6:
        return Tag(number, True, "open"), off
    if context and lvt == 7:
        return Tag(number, True, "close"), off
    if not context and number == 1:  # application BOOLEAN: the value is in the tag
        return Tag(1, False, "primitive", value=lvt), off
    length = lvt
    if lvt == 5:
        length = buf[off]
        off += 1
        if length == 254:
            length = int.from_bytes(buf[off:off + 2], "big")
            off += 2
        elif length == 255:
            length = int.from_bytes(buf[off:off + 4], "big")
            off += 4
    if off + length > len(buf):
        raise DecodeError("a tag's content runs past the data")
    return Tag(number, context, "primitive", buf[off:off + length]), off + length


@dataclass
class BitString:
    bits: List[bool]


def app_value(tag: Tag):
    """The Python value of an application-tagged primitive."""
    c = tag.content
    n = tag.number
    if n == 0:
        return None
    if n == 1:
        return bool(tag.value)
    if n in (2, 9):  # Unsigned, Enumerated
        return int.from_bytes(c, "big")
    if n == 3:
        return int.from_bytes(c, "big", signed=True)
    if n == 4:
        return struct.unpack(">f", c)[0]
    if n == 5:
        return struct.unpack(">d", c)[0]
    if n == 6:
        return bytes(c)
    if n == 7:
        if not c or c[0] != 0:
            raise DecodeError("CharacterString not in UTF-8 (set 0)")
        return c[1:].decode("utf-8")
    if n == 8:
        unused = c[0]
        bits = [bool(c[1 + i // 8] & (0x80 >> (i % 8))) for i in range((len(c) - 1) * 8 - unused)]
        return BitString(bits)
    if n in (10, 11):  # Date, Time: four octets each (0xFF: unspecified)
        if len(c) != 4:
            raise DecodeError("Date/Time is not 4 octets")
        return tuple(c)
    if n == 12:
        v = int.from_bytes(c, "big")
        return (v >> 22, v & 0x3FFFFF)
    raise DecodeError(f"application tag {n} not handled by the test decoder")


def app_values(buf: bytes) -> list:
    """A sequence of application-tagged primitives (a property value or a list of them)."""
    out, off = [], 0
    while off < len(buf):
        tag, off = read_tag(buf, off)
        if tag.context or tag.kind != "primitive":
            raise DecodeError("the test decoder reads application-tagged values only")
        out.append(app_value(tag))
    return out


def enclosed(buf: bytes, off: int, number: int) -> Tuple[bytes, int]:
    """The octets between opening tag `number` at `off` and its closing tag."""
    tag, off = read_tag(buf, off)
    if tag.kind != "open" or tag.number != number:
        raise DecodeError(f"expected opening tag {number}")
    start, depth = off, 1
    while True:
        tag, nxt = read_tag(buf, off)
        if tag.kind == "open":
            depth += 1
        elif tag.kind == "close":
            depth -= 1
            if depth == 0:
                return buf[start:off], nxt
        off = nxt


def ctx_uint(buf: bytes, off: int, number: int) -> Tuple[int, int]:
    tag, off = read_tag(buf, off)
    if not tag.context or tag.number != number or tag.kind != "primitive":
        raise DecodeError(f"expected context tag {number}")
    return int.from_bytes(tag.content, "big"), off


def peek_ctx(buf: bytes, off: int, number: int) -> bool:
    if off >= len(buf):
        return False
    tag, _ = read_tag(buf, off)
    return tag.context and tag.number == number and tag.kind == "primitive"


@dataclass
class Npdu:
    control: int
    dnet: Optional[int]
    dadr: bytes
    apdu: bytes

    @property
    def priority(self) -> int:
        return self.control & 0x03


def decode_npdu(buf: bytes) -> Npdu:
    if len(buf) < 2 or buf[0] != 1:
        raise DecodeError("not an NPDU of version 1")
    control, off = buf[1], 2
    dnet, dadr = None, b""
    if control & 0x20:
        dnet = int.from_bytes(buf[off:off + 2], "big")
        dlen = buf[off + 2]
        dadr = buf[off + 3:off + 3 + dlen]
        off += 3 + dlen
    if control & 0x08:
        slen = buf[off + 2]
        off += 3 + slen
    if control & 0x20:
        off += 1  # hop count
    if control & 0x80:
        raise DecodeError("a network-layer message, not an APDU")
    return Npdu(control, dnet, dadr, buf[off:])


@dataclass
class Apdu:
    pdu_type: int
    invoke: int = 0
    service: int = 0
    reason: int = 0
    error: Tuple[int, int] = (0, 0)
    data: bytes = b""


def decode_apdu(apdu: bytes) -> Apdu:
    t = apdu[0] >> 4
    if t == PDU_UNCONFIRMED:
        return Apdu(t, service=apdu[1], data=apdu[2:])
    if t == PDU_COMPLEX_ACK:
        if apdu[0] & 0x08:
            raise DecodeError("a segmented ComplexACK")
        return Apdu(t, invoke=apdu[1], service=apdu[2], data=apdu[3:])
    if t == PDU_ERROR:
        vals = app_values(apdu[3:])
        return Apdu(t, invoke=apdu[1], service=apdu[2], error=(vals[0], vals[1]))
    if t in (PDU_REJECT, PDU_ABORT):
        return Apdu(t, invoke=apdu[1], reason=apdu[2])
    if t == PDU_SIMPLE_ACK:
        return Apdu(t, invoke=apdu[1], service=apdu[2])
    raise DecodeError(f"PDU type {t} not expected from a server")


@dataclass
class IAm:
    device: Tuple[int, int]
    max_apdu: int
    segmentation: int
    vendor: int


def decode_i_am(apdu: Apdu) -> IAm:
    if (apdu.pdu_type, apdu.service) != (PDU_UNCONFIRMED, SERVICE_I_AM):
        raise DecodeError("not an I-Am")
    return IAm(*app_values(apdu.data))


def decode_i_have(apdu: Apdu):
    """(device, object, object name)"""
    if (apdu.pdu_type, apdu.service) != (PDU_UNCONFIRMED, SERVICE_I_HAVE):
        raise DecodeError("not an I-Have")
    device, obj, name = app_values(apdu.data)
    return device, obj, name


def decode_read_property_ack(apdu: Apdu):
    """(object, property, index or None, [values])"""
    obj, prop, index, value = decode_read_property_ack_raw(apdu)
    return obj, prop, index, app_values(value)


def decode_read_property_ack_raw(apdu: Apdu):
    """(object, property, index or None, the value's octets) for constructed values."""
    if (apdu.pdu_type, apdu.service) != (PDU_COMPLEX_ACK, SERVICE_READ_PROPERTY):
        raise DecodeError(f"not a ReadProperty-ACK: {apdu}")
    buf = apdu.data
    raw, off = ctx_uint(buf, 0, 0)
    prop, off = ctx_uint(buf, off, 1)
    index = None
    if peek_ctx(buf, off, 2):
        index, off = ctx_uint(buf, off, 2)
    value, off = enclosed(buf, off, 3)
    if off != len(buf):
        raise DecodeError("octets after the ReadProperty-ACK")
    return (raw >> 22, raw & 0x3FFFFF), prop, index, value


@dataclass
class RpmResult:
    prop: int
    index: Optional[int]
    values: list = field(default_factory=list)
    error: Optional[Tuple[int, int]] = None
    raw: bytes = b""  # the value's octets (values is None when they are not primitives)


def decode_rpm_ack(apdu: Apdu):
    """[(object, [RpmResult, ...]), ...]"""
    if (apdu.pdu_type, apdu.service) != (PDU_COMPLEX_ACK, SERVICE_READ_PROPERTY_MULTIPLE):
        raise DecodeError(f"not a ReadPropertyMultiple-ACK: {apdu}")
    buf, off, out = apdu.data, 0, []
    while off < len(buf):
        raw, off = ctx_uint(buf, off, 0)
        inner, off = enclosed(buf, off, 1)
        results, i = [], 0
        while i < len(inner):
            prop, i = ctx_uint(inner, i, 2)
            index = None
            if peek_ctx(inner, i, 3):
                index, i = ctx_uint(inner, i, 3)
            tag, _ = read_tag(inner, i)
            if tag.kind == "open" and tag.number == 4:
                value, i = enclosed(inner, i, 4)
                try:
                    values = app_values(value)
                except DecodeError:
                    values = None  # constructed (e.g. the SC connection lists): see raw
                results.append(RpmResult(prop, index, values, raw=value))
            else:
                err, i = enclosed(inner, i, 5)
                results.append(RpmResult(prop, index, error=tuple(app_values(err))))
        out.append(((raw >> 22, raw & 0x3FFFFF), results))
    return out


@dataclass
class RangeAck:
    obj: Tuple[int, int]
    prop: int
    first_item: bool
    last_item: bool
    more_items: bool
    item_count: int
    values: list


def decode_read_range_ack(apdu: Apdu) -> RangeAck:
    if (apdu.pdu_type, apdu.service) != (PDU_COMPLEX_ACK, SERVICE_READ_RANGE):
        raise DecodeError(f"not a ReadRange-ACK: {apdu}")
    buf = apdu.data
    raw, off = ctx_uint(buf, 0, 0)
    prop, off = ctx_uint(buf, off, 1)
    if peek_ctx(buf, off, 2):
        raise DecodeError("an array index the request did not have")
    flags, off = read_tag(buf, off)
    if not flags.context or flags.number != 3 or len(flags.content) != 2 or flags.content[0] != 5:
        raise DecodeError("expected [3] result flags, a BIT STRING of 3 bits")
    count, off = ctx_uint(buf, off, 4)
    items, off = enclosed(buf, off, 5)
    if off != len(buf):
        raise DecodeError("octets after the items (a first sequence number by position?)")
    values = app_values(items)
    if len(values) != count:
        raise DecodeError(f"item count {count} but {len(values)} items")
    f = flags.content[1]
    return RangeAck((raw >> 22, raw & 0x3FFFFF), prop, bool(f & 0x80), bool(f & 0x40),
                    bool(f & 0x20), count, values)


# --- the SC Network Port's connection lists (docs/bacnet-device.md §4.2) ------------------

SC_NOT_CONNECTED, SC_CONNECTED, SC_DISCONNECTED_WITH_ERRORS, SC_FAILED_TO_CONNECT = 0, 1, 2, 3
ERROR_CLASS_COMMUNICATION = 7
UNSPECIFIED_DATE_TIME = ((0xFF,) * 4, (0xFF,) * 4)


@dataclass
class HostNPort:
    ip: Optional[bytes]    # 4 or 16 octets; None for none/name
    name: Optional[str]
    port: int


@dataclass
class ScHubFunctionConnection:
    state: int
    connect: tuple         # (date octets, time octets)
    disconnect: tuple
    peer: HostNPort
    vmac: bytes
    uuid: bytes
    error: Optional[Tuple[int, int]] = None
    details: Optional[str] = None


@dataclass
class ScFailedConnectionRequest:
    timestamp: tuple
    peer: HostNPort
    vmac: Optional[bytes]
    uuid: Optional[bytes]
    error: Tuple[int, int]
    details: Optional[str] = None


def _ctx_primitive(buf: bytes, off: int, number: int) -> Tuple[bytes, int]:
    tag, off = read_tag(buf, off)
    if not tag.context or tag.number != number or tag.kind != "primitive":
        raise DecodeError(f"expected context tag {number}")
    return tag.content, off


def _ctx_octets(buf: bytes, off: int, number: int, size: int) -> Tuple[bytes, int]:
    c, off = _ctx_primitive(buf, off, number)
    if len(c) != size:
        raise DecodeError(f"context tag {number}: {len(c)} octets, expected {size}")
    return bytes(c), off


def _ctx_text(buf: bytes, off: int, number: int) -> Tuple[str, int]:
    c, off = _ctx_primitive(buf, off, number)
    if not c or c[0] != 0:
        raise DecodeError("CharacterString not in UTF-8 (set 0)")
    return c[1:].decode("utf-8"), off


def _date_time(buf: bytes, off: int, number: int) -> Tuple[tuple, int]:
    inner, off = enclosed(buf, off, number)
    values = app_values(inner)
    if len(values) != 2 or not all(isinstance(v, tuple) for v in values):
        raise DecodeError(f"[{number}] is not a BACnetDateTime")
    return (values[0], values[1]), off


def _host_n_port(buf: bytes, off: int, number: int) -> Tuple[HostNPort, int]:
    inner, off = enclosed(buf, off, number)
    host, i = enclosed(inner, 0, 0)
    tag, _ = read_tag(host, 0) if host else (None, 0)
    ip = name = None
    if tag is None:
        raise DecodeError("BACnetHostAddress without a choice")
    if tag.number == 1:
        ip, _ = _ctx_primitive(host, 0, 1)
        if len(ip) not in (4, 16):
            raise DecodeError(f"host ip-address of {len(ip)} octets (text?)")
        ip = bytes(ip)
    elif tag.number == 2:
        name, _ = _ctx_text(host, 0, 2)
    elif tag.number != 0:
        raise DecodeError("unknown BACnetHostAddress choice")
    port, i = ctx_uint(inner, i, 1)
    if i != len(inner):
        raise DecodeError("octets after BACnetHostNPort's port")
    return HostNPort(ip, name, port), off


def _error(buf: bytes, off: int, number: int) -> Tuple[Tuple[int, int], int]:
    """The Std's constructed Error: [n] { class ENUMERATED, code ENUMERATED }."""
    inner, off = enclosed(buf, off, number)
    values = app_values(inner)
    if len(values) != 2:
        raise DecodeError(f"[{number}] Error is not class and code")
    return (values[0], values[1]), off


def _at_opening(buf: bytes, off: int, number: int) -> bool:
    if off >= len(buf):
        return False
    tag, _ = read_tag(buf, off)
    return tag.context and tag.number == number and tag.kind == "open"


def decode_sc_hub_function_connections(buf: bytes) -> List[ScHubFunctionConnection]:
    """A BACnetLIST of BACnetSCHubFunctionConnection (the whole value)."""
    out, off = [], 0
    while off < len(buf):
        state, off = ctx_uint(buf, off, 0)
        connect, off = _date_time(buf, off, 1)
        disconnect, off = _date_time(buf, off, 2)
        peer, off = _host_n_port(buf, off, 3)
        vmac, off = _ctx_octets(buf, off, 4, 6)
        uuid, off = _ctx_octets(buf, off, 5, 16)
        e = ScHubFunctionConnection(state, connect, disconnect, peer, vmac, uuid)
        if _at_opening(buf, off, 6):
            e.error, off = _error(buf, off, 6)
        if peek_ctx(buf, off, 7):
            e.details, off = _ctx_text(buf, off, 7)
        out.append(e)
    return out


def decode_sc_failed_connection_requests(buf: bytes) -> List[ScFailedConnectionRequest]:
    """A BACnetLIST of BACnetSCFailedConnectionRequest (the whole value)."""
    out, off = [], 0
    while off < len(buf):
        timestamp, off = _date_time(buf, off, 0)
        peer, off = _host_n_port(buf, off, 1)
        vmac = uuid = details = None
        if peek_ctx(buf, off, 2):
            vmac, off = _ctx_octets(buf, off, 2, 6)
        if peek_ctx(buf, off, 3):
            uuid, off = _ctx_octets(buf, off, 3, 16)
        error, off = _error(buf, off, 4)  # mandatory
        if peek_ctx(buf, off, 5):
            details, off = _ctx_text(buf, off, 5)
        out.append(ScFailedConnectionRequest(timestamp, peer, vmac, uuid, error, details))
    return out
