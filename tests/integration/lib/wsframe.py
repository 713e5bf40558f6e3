"""RFC 6455 client frames and upgrade requests built by hand, for tests and fuzz seeds that
need what a WebSocket library would refuse to send (bad RSV bits, unmasked, lying lengths,
missing headers). Used by the raw-socket tests (test_bad_input.py, test_faults.py,
test_flood.py), lib/nodes.py's blocking node, fuzz/make_seeds.py and bench/soak.py.
Stdlib only."""
import os

TEXT, BINARY, CLOSE, PING, PONG, CONT = 0x1, 0x2, 0x8, 0x9, 0xA, 0x0
WS_KEY = "dGhlIHNhbXBsZSBub25jZQ=="   # the sample nonce of RFC 6455 §1.3


def mask_bytes(payload: bytes, key: bytes) -> bytes:
    n = len(payload)
    if n == 0:
        return b""
    k = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(k, "big")).to_bytes(n, "big")


def ws_frame(opcode: int, payload: bytes = b"", fin: bool = True, rsv: int = 0, mask=True,
             length=None) -> bytes:
    """One frame. rsv: the 3 RSV bits as a number (4 = RSV1). mask: True for a random key,
    a 4-octet key for a fixed one (deterministic seeds), False/None for an unmasked frame.
    length overrides the announced payload length."""
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload) if length is None else length
    mbit = 0x80 if mask else 0
    if n < 126:
        hdr = bytes([b0, mbit | n])
    elif n < 65536:
        hdr = bytes([b0, mbit | 126]) + n.to_bytes(2, "big")
    else:
        hdr = bytes([b0, mbit | 127]) + n.to_bytes(8, "big")
    if not mask:
        return hdr + payload
    key = os.urandom(4) if mask is True else bytes(mask)
    return hdr + key + mask_bytes(payload, key)


def upgrade_request(key=WS_KEY, version="13", protocol="hub.bsc.bacnet.org", method="GET",
                    target="/", http="HTTP/1.1", extra="", upgrade="websocket",
                    connection="Upgrade", host="127.0.0.1") -> bytes:
    """The HTTP/1.1 upgrade request head; a header given as None is left out, `extra` is
    raw header lines added at the end."""
    lines = [f"{method} {target} {http}", f"Host: {host}"]
    if upgrade is not None:
        lines.append(f"Upgrade: {upgrade}")
    if connection is not None:
        lines.append(f"Connection: {connection}")
    if key is not None:
        lines.append(f"Sec-WebSocket-Key: {key}")
    if version is not None:
        lines.append(f"Sec-WebSocket-Version: {version}")
    if protocol is not None:
        lines.append(f"Sec-WebSocket-Protocol: {protocol}")
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode()
