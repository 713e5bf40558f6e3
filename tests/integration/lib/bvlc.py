"""Small, independent BVLC-SC encoder/decoder for the bschub integration tests.

Written from docs/protocol.md §2-§4 and §6 only (no code shared with the C++
codec). All multi-octet numbers are big-endian.
"""

import os
from dataclasses import dataclass, replace
from typing import List, Optional, Tuple

# --- constants ------------------------------------------------------------------------

RESULT = 0x00
ENCAPSULATED_NPDU = 0x01
ADDRESS_RESOLUTION = 0x02
ADDRESS_RESOLUTION_ACK = 0x03
ADVERTISEMENT = 0x04
ADVERTISEMENT_SOLICITATION = 0x05
CONNECT_REQUEST = 0x06
CONNECT_ACCEPT = 0x07
DISCONNECT_REQUEST = 0x08
DISCONNECT_ACK = 0x09
HEARTBEAT_REQUEST = 0x0A
HEARTBEAT_ACK = 0x0B
PROPRIETARY_MESSAGE = 0x0C

FUNCTION_NAMES = {
    0x00: "BVLC-Result", 0x01: "Encapsulated-NPDU", 0x02: "Address-Resolution",
    0x03: "Address-Resolution-ACK", 0x04: "Advertisement",
    0x05: "Advertisement-Solicitation", 0x06: "Connect-Request", 0x07: "Connect-Accept",
    0x08: "Disconnect-Request", 0x09: "Disconnect-ACK", 0x0A: "Heartbeat-Request",
    0x0B: "Heartbeat-ACK", 0x0C: "Proprietary-Message",
}

FLAG_ORIG = 0x08
FLAG_DEST = 0x04
FLAG_DEST_OPTS = 0x02
FLAG_DATA_OPTS = 0x01
FLAG_RESERVED = 0xF0

OPT_MORE = 0x80
OPT_MUST_UNDERSTAND = 0x40
OPT_HAS_DATA = 0x20
OPT_TYPE_MASK = 0x1F

OPT_SECURE_PATH = 1
OPT_PROPRIETARY = 31

RESULT_ACK = 0x00
RESULT_NAK = 0x01

ERROR_CLASS_COMMUNICATION = 7
ERROR_CLASS_RESOURCES = 3

# Error codes (docs/protocol.md §4)
OTHER = 0
INCONSISTENT_PARAMETERS = 7
OPTIONAL_FUNCTIONALITY_NOT_SUPPORTED = 45
PARAMETER_OUT_OF_RANGE = 80
MESSAGE_TOO_LONG = 113
OUT_OF_MEMORY = 133
BVLC_FUNCTION_UNKNOWN = 143
BVLC_PROPRIETARY_FUNCTION_UNKNOWN = 144
HEADER_ENCODING_ERROR = 145
HEADER_NOT_UNDERSTOOD = 146
MESSAGE_INCOMPLETE = 147
NOT_A_BACNET_SC_HUB = 148
PAYLOAD_EXPECTED = 149
UNEXPECTED_DATA = 150
NODE_DUPLICATE_VMAC = 151

BROADCAST_VMAC = b"\xff" * 6
UNKNOWN_VMAC = b"\x00" * 6

VMAC_LEN = 6
UUID_LEN = 16
CONNECT_PAYLOAD_LEN = 26


class DecodeError(ValueError):
    pass


# --- VMAC / UUID helpers ----------------------------------------------------------------

def vmac(text: str) -> bytes:
    """'02:A1:B2:C3:D4:E5' or '02A1B2C3D4E5' -> 6 bytes."""
    b = bytes.fromhex(text.replace(":", "").replace("-", ""))
    if len(b) != VMAC_LEN:
        raise ValueError(f"VMAC must be 6 octets: {text!r}")
    return b


def vmac_str(b: bytes) -> str:
    return ":".join(f"{x:02X}" for x in b)


def random_vmac() -> bytes:
    """Random-48 VMAC: low nibble of the first octet is 0010 (docs/protocol.md §6)."""
    r = bytearray(os.urandom(VMAC_LEN))
    r[0] = (r[0] & 0xF0) | 0x02
    return bytes(r)


def random_uuid() -> bytes:
    return os.urandom(UUID_LEN)


def uuid_str(b: bytes) -> str:
    h = b.hex()
    return f"{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


# --- header options ---------------------------------------------------------------------

@dataclass
class HeaderOption:
    """One header option. `data` is None when the Header Data flag is clear.

    The More bit of `marker` is recomputed on encode (set on all entries but the last).
    """
    marker: int
    data: Optional[bytes] = None

    @property
    def option_type(self) -> int:
        return self.marker & OPT_TYPE_MASK

    @property
    def must_understand(self) -> bool:
        return bool(self.marker & OPT_MUST_UNDERSTAND)

    @staticmethod
    def secure_path() -> "HeaderOption":
        return HeaderOption(OPT_MUST_UNDERSTAND | OPT_SECURE_PATH)

    @staticmethod
    def proprietary(vendor: int, ptype: int, data: bytes = b"",
                    must_understand: bool = False) -> "HeaderOption":
        m = OPT_HAS_DATA | OPT_PROPRIETARY | (OPT_MUST_UNDERSTAND if must_understand else 0)
        return HeaderOption(m, vendor.to_bytes(2, "big") + bytes([ptype]) + data)


def encode_options(opts: List[HeaderOption]) -> bytes:
    if not opts:
        raise ValueError("an option list has at least one entry")
    out = bytearray()
    for i, o in enumerate(opts):
        more = OPT_MORE if i < len(opts) - 1 else 0
        m = (o.marker & ~OPT_MORE & 0xFF) | more
        if o.data is not None:
            m |= OPT_HAS_DATA
        else:
            m &= ~OPT_HAS_DATA & 0xFF
        out.append(m)
        if o.data is not None:
            if len(o.data) > 0xFFFF:
                raise ValueError("header data too long")
            out += len(o.data).to_bytes(2, "big") + o.data
    return bytes(out)


def decode_options(buf: bytes, off: int) -> Tuple[List[HeaderOption], int]:
    opts: List[HeaderOption] = []
    while True:
        if off >= len(buf):
            raise DecodeError("option list cut short")
        marker = buf[off]
        off += 1
        data = None
        if marker & OPT_HAS_DATA:
            if off + 2 > len(buf):
                raise DecodeError("header length cut short")
            n = int.from_bytes(buf[off:off + 2], "big")
            off += 2
            if off + n > len(buf):
                raise DecodeError("header data cut short")
            data = bytes(buf[off:off + n])
            off += n
        opts.append(HeaderOption(marker, data))
        if not marker & OPT_MORE:
            return opts, off


# --- message ----------------------------------------------------------------------------

@dataclass
class Message:
    function: int
    msg_id: int
    orig: Optional[bytes] = None
    dest: Optional[bytes] = None
    dest_options: Optional[List[HeaderOption]] = None
    data_options: Optional[List[HeaderOption]] = None
    payload: bytes = b""
    reserved_flags: int = 0  # only set by decode(strict=False); never encoded

    @property
    def flags(self) -> int:
        f = 0
        if self.orig is not None:
            f |= FLAG_ORIG
        if self.dest is not None:
            f |= FLAG_DEST
        if self.dest_options is not None:
            f |= FLAG_DEST_OPTS
        if self.data_options is not None:
            f |= FLAG_DATA_OPTS
        return f

    def encode(self) -> bytes:
        if not 0 <= self.function <= 0xFF:
            raise ValueError("function out of range")
        if not 0 <= self.msg_id <= 0xFFFF:
            raise ValueError("message id out of range")
        out = bytearray([self.function, self.flags]) + self.msg_id.to_bytes(2, "big")
        for v in (self.orig, self.dest):
            if v is not None:
                if len(v) != VMAC_LEN:
                    raise ValueError("VMAC must be 6 octets")
                out += v
        if self.dest_options is not None:
            out += encode_options(self.dest_options)
        if self.data_options is not None:
            out += encode_options(self.data_options)
        out += self.payload
        return bytes(out)

    @classmethod
    def decode(cls, buf: bytes, strict: bool = True) -> "Message":
        buf = bytes(buf)
        if len(buf) < 4:
            raise DecodeError(f"message shorter than 4 octets: {buf.hex()}")
        fn, flags = buf[0], buf[1]
        if strict and flags & FLAG_RESERVED:
            raise DecodeError(f"reserved control flag bits set: 0x{flags:02X}")
        m = cls(function=fn, msg_id=int.from_bytes(buf[2:4], "big"),
                reserved_flags=flags & FLAG_RESERVED)
        off = 4
        if flags & FLAG_ORIG:
            if off + 6 > len(buf):
                raise DecodeError("originating VMAC cut short")
            m.orig = buf[off:off + 6]
            off += 6
        if flags & FLAG_DEST:
            if off + 6 > len(buf):
                raise DecodeError("destination VMAC cut short")
            m.dest = buf[off:off + 6]
            off += 6
        if flags & FLAG_DEST_OPTS:
            m.dest_options, off = decode_options(buf, off)
        if flags & FLAG_DATA_OPTS:
            m.data_options, off = decode_options(buf, off)
        m.payload = buf[off:]
        return m

    def describe(self) -> str:
        parts = [FUNCTION_NAMES.get(self.function, f"fn=0x{self.function:02X}"),
                 f"id=0x{self.msg_id:04X}"]
        if self.orig is not None:
            parts.append(f"O={vmac_str(self.orig)}")
        if self.dest is not None:
            parts.append(f"D={vmac_str(self.dest)}")
        if self.dest_options is not None:
            parts.append(f"dopts={len(self.dest_options)}")
        if self.data_options is not None:
            parts.append(f"dataopts={len(self.data_options)}")
        parts.append(f"payload={self.payload.hex()}")
        return " ".join(parts)


def describe(raw: bytes) -> str:
    try:
        return f"{raw.hex()} ({Message.decode(raw, strict=False).describe()})"
    except DecodeError as exc:
        return f"{raw.hex()} (undecodable: {exc})"


# --- payloads ---------------------------------------------------------------------------

@dataclass
class ConnectPayload:
    vmac: bytes
    uuid: bytes
    max_bvlc: int
    max_npdu: int

    def encode(self) -> bytes:
        if len(self.vmac) != VMAC_LEN or len(self.uuid) != UUID_LEN:
            raise ValueError("bad VMAC/UUID length")
        return (self.vmac + self.uuid + self.max_bvlc.to_bytes(2, "big")
                + self.max_npdu.to_bytes(2, "big"))

    @classmethod
    def decode(cls, b: bytes) -> "ConnectPayload":
        if len(b) != CONNECT_PAYLOAD_LEN:
            raise DecodeError(f"connect payload must be 26 octets, got {len(b)}")
        return cls(b[0:6], b[6:22], int.from_bytes(b[22:24], "big"),
                   int.from_bytes(b[24:26], "big"))


@dataclass
class ResultPayload:
    for_function: int
    code: int
    error_marker: int = 0
    error_class: int = 0
    error_code: int = 0
    details: bytes = b""

    @property
    def is_nak(self) -> bool:
        return self.code == RESULT_NAK

    def encode(self) -> bytes:
        if self.code == RESULT_ACK:
            return bytes([self.for_function, RESULT_ACK])
        return (bytes([self.for_function, self.code, self.error_marker])
                + self.error_class.to_bytes(2, "big") + self.error_code.to_bytes(2, "big")
                + self.details)

    @classmethod
    def decode(cls, b: bytes) -> "ResultPayload":
        if len(b) < 2:
            raise DecodeError("result payload shorter than 2")
        if b[1] == RESULT_ACK:
            if len(b) != 2:
                raise DecodeError("ACK result longer than 2")
            return cls(b[0], RESULT_ACK)
        if b[1] != RESULT_NAK:
            raise DecodeError(f"result code {b[1]} out of range")
        if len(b) < 7:
            raise DecodeError("NAK result shorter than 7")
        return cls(b[0], RESULT_NAK, b[2], int.from_bytes(b[3:5], "big"),
                   int.from_bytes(b[5:7], "big"), bytes(b[7:]))


# --- builders ---------------------------------------------------------------------------

def connect_request(msg_id: int, node_vmac: bytes, node_uuid: bytes, max_bvlc: int = 1600,
                    max_npdu: int = 1497) -> bytes:
    return Message(CONNECT_REQUEST, msg_id,
                   payload=ConnectPayload(node_vmac, node_uuid, max_bvlc, max_npdu).encode()
                   ).encode()


def connect_accept(msg_id: int, hub_vmac: bytes, hub_uuid: bytes, max_bvlc: int = 6000,
                   max_npdu: int = 1497) -> bytes:
    return Message(CONNECT_ACCEPT, msg_id,
                   payload=ConnectPayload(hub_vmac, hub_uuid, max_bvlc, max_npdu).encode()
                   ).encode()


def _bare(fn: int, msg_id: int) -> bytes:
    return Message(fn, msg_id).encode()


def heartbeat_request(msg_id: int) -> bytes:
    return _bare(HEARTBEAT_REQUEST, msg_id)


def heartbeat_ack(msg_id: int) -> bytes:
    return _bare(HEARTBEAT_ACK, msg_id)


def disconnect_request(msg_id: int) -> bytes:
    return _bare(DISCONNECT_REQUEST, msg_id)


def disconnect_ack(msg_id: int) -> bytes:
    return _bare(DISCONNECT_ACK, msg_id)


def nak(msg_id: int, for_function: int, error_code: int,
        error_class: int = ERROR_CLASS_COMMUNICATION, error_marker: int = 0,
        details: bytes = b"", orig: Optional[bytes] = None,
        dest: Optional[bytes] = None) -> bytes:
    p = ResultPayload(for_function, RESULT_NAK, error_marker, error_class, error_code, details)
    return Message(RESULT, msg_id, orig=orig, dest=dest, payload=p.encode()).encode()


def npdu(msg_id: int, dest: Optional[bytes], data: bytes, orig: Optional[bytes] = None,
         dest_options: Optional[List[HeaderOption]] = None,
         data_options: Optional[List[HeaderOption]] = None) -> bytes:
    return Message(ENCAPSULATED_NPDU, msg_id, orig=orig, dest=dest, dest_options=dest_options,
                   data_options=data_options, payload=data).encode()


def proprietary(msg_id: int, dest: Optional[bytes], vendor: int, function: int,
                data: bytes = b"", orig: Optional[bytes] = None) -> bytes:
    return Message(PROPRIETARY_MESSAGE, msg_id, orig=orig, dest=dest,
                   payload=vendor.to_bytes(2, "big") + bytes([function]) + data).encode()


# --- what a hub must do to a forwarded message (docs/protocol.md §6 "Rewrite") -------

def hub_unicast_rewrite(raw: bytes, sender_vmac: bytes) -> bytes:
    """Expected bytes delivered to the destination: O = sender, D removed, rest verbatim."""
    m = Message.decode(raw, strict=False)
    return replace(m, orig=sender_vmac, dest=None).encode()


def hub_broadcast_rewrite(raw: bytes, sender_vmac: bytes) -> bytes:
    """Expected bytes delivered to every other node: O = sender, D = broadcast."""
    m = Message.decode(raw, strict=False)
    return replace(m, orig=sender_vmac, dest=BROADCAST_VMAC).encode()
