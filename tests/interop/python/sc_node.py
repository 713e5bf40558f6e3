#!/usr/bin/python3
"""A BACnet/SC node on Python's ssl (OpenSSL) and the websockets package (Debian's
python3-websockets), speaking the interop node contract of tests/interop/README.md.

Beyond the contract, options that reproduce habits of other node stacks:
  --alpn LIST          ALPN protocols offered, comma-separated (default: none)
  --subprotocols LIST  subprotocols offered, in order (default: hub.bsc.bacnet.org)
  --split-connect      send the Connect-Request as a fragmented message (three frames)
  --no-deflate         do not offer permessage-deflate (websockets offers it by default)
  --chain FILE         send this PEM chain (leaf first) instead of --cert alone
Uses Debian's /usr/bin/python3 (websockets 10.4).
"""

import argparse
import asyncio
import os
import ssl
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "integration"))
from lib import bvlc  # noqa: E402
import websockets  # noqa: E402

SUBPROTOCOL = "hub.bsc.bacnet.org"


def say(line: str) -> None:
    print(line, flush=True)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--vmac", required=True)
    p.add_argument("--peer", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--timeout", type=float, default=20.0)
    p.add_argument("--alpn", default="")
    p.add_argument("--subprotocols", default=SUBPROTOCOL)
    p.add_argument("--split-connect", action="store_true")
    p.add_argument("--no-deflate", action="store_true")
    p.add_argument("--chain", default="")
    return p.parse_args()


def tls_context(a) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.check_hostname = False  # BACnet/SC does no name checks (Std AB.7.4)
    ctx.load_verify_locations(a.ca)
    ctx.load_cert_chain(a.chain or a.cert, a.key)
    if a.alpn:
        ctx.set_alpn_protocols(a.alpn.split(","))
    return ctx


async def run(a) -> int:
    vmac, peer = bvlc.vmac(a.vmac), bvlc.vmac(a.peer)
    ws = await websockets.connect(
        a.url, ssl=tls_context(a), subprotocols=a.subprotocols.split(","),
        compression=None if a.no_deflate else "deflate", max_size=1600, open_timeout=10)
    if ws.subprotocol != SUBPROTOCOL:
        sys.stderr.write(f"hub chose subprotocol {ws.subprotocol!r}\n")
        return 1
    msg_id = int.from_bytes(os.urandom(2), "big")
    request = bvlc.connect_request(msg_id, vmac, bvlc.random_uuid(), 1600, 1497)
    if a.split_connect:
        await ws.send([request[:3], request[3:10], request[10:]])
    else:
        await ws.send(request)
    reply = bvlc.Message.decode(await asyncio.wait_for(ws.recv(), 5))
    if reply.function != bvlc.CONNECT_ACCEPT or reply.msg_id != msg_id:
        sys.stderr.write(f"no Connect-Accept: {reply.describe()}\n")
        return 1
    say("connected")
    await ws.send(bvlc.npdu(1, peer, f"hello from {a.name}".encode()))
    await ws.send(bvlc.npdu(2, bvlc.BROADCAST_VMAC, f"broadcast from {a.name}".encode()))
    say("sent")
    while True:
        m = bvlc.Message.decode(await ws.recv())
        if m.function == bvlc.ENCAPSULATED_NPDU:
            text = m.payload.decode("utf-8", "backslashreplace")
            say(f"npdu {bvlc.vmac_str(m.orig).lower() if m.orig else '-'} {text}")
            if text.startswith("ping:") and m.orig:
                await ws.send(bvlc.npdu(3, m.orig, b"pong:" + m.payload[5:]))
            elif text == "bye":
                await ws.send(bvlc.disconnect_request(4))
                ack = bvlc.Message.decode(await asyncio.wait_for(ws.recv(), 2))
                if ack.function != bvlc.DISCONNECT_ACK:
                    sys.stderr.write(f"expected Disconnect-ACK, got {ack.describe()}\n")
                    return 1
                await ws.close(1000)
                say("disconnected")
                return 0
        elif m.function == bvlc.HEARTBEAT_REQUEST:
            await ws.send(bvlc.heartbeat_ack(m.msg_id))
        elif m.function == bvlc.DISCONNECT_REQUEST:
            await ws.send(bvlc.disconnect_ack(m.msg_id))
            say("disconnected")
            return 0
        else:
            say(f"other {m.function:02x}")


def main() -> int:
    a = parse_args()
    try:
        return asyncio.run(asyncio.wait_for(run(a), a.timeout))
    except asyncio.TimeoutError:
        sys.stderr.write(f"timed out after {a.timeout} s\n")
        return 2
    except Exception as exc:  # one clear sentence, exit 1
        sys.stderr.write(f"failed: {type(exc).__name__}: {exc}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
