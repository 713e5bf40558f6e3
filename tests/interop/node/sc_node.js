#!/usr/bin/env node
// BACnet/SC interop test node for bschub, on Node's tls and the `ws` package.
//
// Usage:
//   node sc_node.js --url wss://127.0.0.1:PORT/ --ca CA.pem --cert NODE.pem --key NODE.key
//                   --vmac 02:00:00:00:00:0a --peer 02:00:00:00:00:0b --name node
//                   [--timeout 20] [--alpn LIST] [--perMessageDeflate] [--verbose]
//
// What it does (the common "interop node" contract):
//   1. TLS 1.3 with a client certificate, trusting only --ca, no host name check; WebSocket
//      upgrade with subprotocol hub.bsc.bacnet.org.
//   2. Connect-Request (random message id, --vmac, random UUID, max BVLC 1600, max NPDU 1497),
//      waits up to 5 s for Connect-Accept, prints `connected`.
//   3. Encapsulated-NPDU unicast to --peer `hello from NAME`, broadcast `broadcast from NAME`,
//      prints `sent`.
//   4. For each message received: Encapsulated-NPDU -> `npdu ORIG_VMAC PAYLOAD` (answers
//      `ping:X` with `pong:X`; `bye` -> Disconnect-Request, Disconnect-ACK, close 1000,
//      `disconnected`, exit 0); Heartbeat-Request -> Heartbeat-ACK; Disconnect-Request ->
//      Disconnect-ACK, `disconnected`, exit 0; anything else -> `other FUNCTION_HEX`.
//   5. Errors go to stderr. Exit 1 on any failure, 2 when --timeout seconds pass before `bye`.
//
// Output lines on stdout are only the protocol lines above; --verbose adds diagnostics on
// stderr (TLS version, cipher, ALPN, WebSocket extensions, every frame in hex).
//
// BVLC-SC layout (all numbers big-endian): Function(1) Control-Flags(1) Message-ID(2)
// [Originating VMAC(6) if flag 0x08] [Destination VMAC(6) if flag 0x04]
// [Destination Options if flag 0x02] [Data Options if flag 0x01] [Payload].

'use strict';

const fs = require('node:fs');
const crypto = require('node:crypto');

// --- BVLC-SC codec --------------------------------------------------------------------

const FN = {
  RESULT: 0x00,
  ENCAPSULATED_NPDU: 0x01,
  ADDRESS_RESOLUTION: 0x02,
  ADDRESS_RESOLUTION_ACK: 0x03,
  ADVERTISEMENT: 0x04,
  ADVERTISEMENT_SOLICITATION: 0x05,
  CONNECT_REQUEST: 0x06,
  CONNECT_ACCEPT: 0x07,
  DISCONNECT_REQUEST: 0x08,
  DISCONNECT_ACK: 0x09,
  HEARTBEAT_REQUEST: 0x0a,
  HEARTBEAT_ACK: 0x0b,
  PROPRIETARY_MESSAGE: 0x0c,
};

const FN_NAMES = {
  0x00: 'BVLC-Result', 0x01: 'Encapsulated-NPDU', 0x02: 'Address-Resolution',
  0x03: 'Address-Resolution-ACK', 0x04: 'Advertisement', 0x05: 'Advertisement-Solicitation',
  0x06: 'Connect-Request', 0x07: 'Connect-Accept', 0x08: 'Disconnect-Request',
  0x09: 'Disconnect-ACK', 0x0a: 'Heartbeat-Request', 0x0b: 'Heartbeat-ACK',
  0x0c: 'Proprietary-Message',
};

const FLAG_ORIG = 0x08;
const FLAG_DEST = 0x04;
const FLAG_DEST_OPTS = 0x02;
const FLAG_DATA_OPTS = 0x01;

const OPT_MORE = 0x80;
const OPT_HAS_DATA = 0x20;

const VMAC_LEN = 6;
const UUID_LEN = 16;
const CONNECT_PAYLOAD_LEN = 26;
const BROADCAST_VMAC = Buffer.alloc(VMAC_LEN, 0xff);

const MAX_BVLC = 1600;
const MAX_NPDU = 1497;
const SUBPROTOCOL = 'hub.bsc.bacnet.org';

class DecodeError extends Error {}

function hex2(n) {
  return n.toString(16).padStart(2, '0');
}

function functionHex(fn) {
  return '0x' + hex2(fn);
}

function functionName(fn) {
  return FN_NAMES[fn] || `function ${functionHex(fn)}`;
}

/** '02:00:00:00:00:0a', '02-00-..' or '02000000000a' -> 6-byte Buffer. */
function parseVmac(text) {
  const clean = String(text).replace(/[:\-]/g, '');
  if (!/^[0-9a-fA-F]{12}$/.test(clean)) {
    throw new Error(`a VMAC is 6 octets of hex such as 02:00:00:00:00:0a, got '${text}'`);
  }
  return Buffer.from(clean, 'hex');
}

/** 6-byte Buffer -> lower-case colon hex. */
function vmacStr(buf) {
  return Array.from(buf, hex2).join(':');
}

/**
 * Encodes one BVLC-SC message. Fields: fn, msgId, orig (Buffer|null), dest (Buffer|null),
 * destOptions / dataOptions (already-encoded option lists as Buffers, or null), payload.
 */
function encode({ fn, msgId, orig = null, dest = null, destOptions = null,
  dataOptions = null, payload = Buffer.alloc(0) }) {
  if (!Number.isInteger(fn) || fn < 0 || fn > 0xff) throw new RangeError('function out of range');
  if (!Number.isInteger(msgId) || msgId < 0 || msgId > 0xffff) {
    throw new RangeError('message id out of range');
  }
  let flags = 0;
  const parts = [];
  if (orig) {
    if (orig.length !== VMAC_LEN) throw new RangeError('originating VMAC must be 6 octets');
    flags |= FLAG_ORIG;
    parts.push(orig);
  }
  if (dest) {
    if (dest.length !== VMAC_LEN) throw new RangeError('destination VMAC must be 6 octets');
    flags |= FLAG_DEST;
    parts.push(dest);
  }
  if (destOptions) {
    flags |= FLAG_DEST_OPTS;
    parts.push(destOptions);
  }
  if (dataOptions) {
    flags |= FLAG_DATA_OPTS;
    parts.push(dataOptions);
  }
  const head = Buffer.from([fn, flags, msgId >> 8, msgId & 0xff]);
  return Buffer.concat([head, ...parts, Buffer.from(payload)]);
}

function decodeOptions(buf, off, what) {
  const opts = [];
  for (;;) {
    if (off >= buf.length) throw new DecodeError(`${what} cut short`);
    const marker = buf[off];
    off += 1;
    let data = null;
    if (marker & OPT_HAS_DATA) {
      if (off + 2 > buf.length) throw new DecodeError(`${what}: header length cut short`);
      const n = buf.readUInt16BE(off);
      off += 2;
      if (off + n > buf.length) throw new DecodeError(`${what}: header data cut short`);
      data = buf.subarray(off, off + n);
      off += n;
    }
    opts.push({ marker, data });
    if (!(marker & OPT_MORE)) return [opts, off];
  }
}

/** Decodes one BVLC-SC message; throws DecodeError on a malformed header. */
function decode(raw) {
  const buf = Buffer.from(raw);
  if (buf.length < 4) {
    throw new DecodeError(`message shorter than 4 octets (${buf.length})`);
  }
  const msg = {
    fn: buf[0],
    flags: buf[1],
    msgId: buf.readUInt16BE(2),
    orig: null,
    dest: null,
    destOptions: null,
    dataOptions: null,
    payload: null,
  };
  let off = 4;
  if (msg.flags & FLAG_ORIG) {
    if (off + VMAC_LEN > buf.length) throw new DecodeError('originating VMAC cut short');
    msg.orig = buf.subarray(off, off + VMAC_LEN);
    off += VMAC_LEN;
  }
  if (msg.flags & FLAG_DEST) {
    if (off + VMAC_LEN > buf.length) throw new DecodeError('destination VMAC cut short');
    msg.dest = buf.subarray(off, off + VMAC_LEN);
    off += VMAC_LEN;
  }
  if (msg.flags & FLAG_DEST_OPTS) {
    [msg.destOptions, off] = decodeOptions(buf, off, 'destination options');
  }
  if (msg.flags & FLAG_DATA_OPTS) {
    [msg.dataOptions, off] = decodeOptions(buf, off, 'data options');
  }
  msg.payload = buf.subarray(off);
  return msg;
}

function connectPayload(vmac, uuid, maxBvlc, maxNpdu) {
  if (vmac.length !== VMAC_LEN || uuid.length !== UUID_LEN) {
    throw new RangeError('bad VMAC or UUID length');
  }
  const sizes = Buffer.alloc(4);
  sizes.writeUInt16BE(maxBvlc, 0);
  sizes.writeUInt16BE(maxNpdu, 2);
  return Buffer.concat([vmac, uuid, sizes]);
}

function decodeConnectPayload(p) {
  if (p.length !== CONNECT_PAYLOAD_LEN) {
    throw new DecodeError(`connect payload must be 26 octets, got ${p.length}`);
  }
  return {
    vmac: p.subarray(0, 6),
    uuid: p.subarray(6, 22),
    maxBvlc: p.readUInt16BE(22),
    maxNpdu: p.readUInt16BE(24),
  };
}

/** BVLC-Result payload -> readable text. */
function describeResult(p) {
  if (p.length < 2) return `BVLC-Result with a ${p.length}-octet payload`;
  const forFn = functionName(p[0]);
  if (p[1] === 0) return `ACK for ${forFn}`;
  if (p[1] !== 1) return `BVLC-Result for ${forFn} with result code ${p[1]}`;
  if (p.length < 7) return `NAK for ${forFn} (payload cut short: ${p.toString('hex')})`;
  const cls = p.readUInt16BE(3);
  const code = p.readUInt16BE(5);
  let text = `NAK for ${forFn}: error class ${cls}, error code ${code}` +
    `, error header marker 0x${hex2(p[2])}`;
  if (p.length > 7) text += `, details '${p.subarray(7).toString('utf8')}'`;
  return text;
}

function uuidStr(b) {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const build = {
  connectRequest: (msgId, vmac, uuid, maxBvlc = MAX_BVLC, maxNpdu = MAX_NPDU) =>
    encode({ fn: FN.CONNECT_REQUEST, msgId, payload: connectPayload(vmac, uuid, maxBvlc, maxNpdu) }),
  npdu: (msgId, dest, data) => encode({ fn: FN.ENCAPSULATED_NPDU, msgId, dest, payload: data }),
  heartbeatAck: (msgId) => encode({ fn: FN.HEARTBEAT_ACK, msgId }),
  disconnectRequest: (msgId) => encode({ fn: FN.DISCONNECT_REQUEST, msgId }),
  disconnectAck: (msgId) => encode({ fn: FN.DISCONNECT_ACK, msgId }),
};

// --- command line ---------------------------------------------------------------------

const USAGE = `usage: node sc_node.js --url wss://HOST:PORT/ --ca CA.pem --cert NODE.pem --key NODE.key
                      --vmac VMAC --peer VMAC --name NAME [--timeout SECONDS]
                      [--alpn LIST] [--perMessageDeflate] [--verbose]

  --url URL              hub URL (wss://; ws:// only for a hub run with --no-tls)
  --ca FILE              the only CA trusted for the hub's certificate (PEM)
  --cert FILE, --key FILE
                         this node's certificate and private key (PEM)
  --vmac VMAC            this node's VMAC, e.g. 02:00:00:00:00:0a
  --peer VMAC            where the unicast hello goes
  --name NAME            used in the hello and broadcast payloads
  --timeout SECONDS      exit 2 if 'bye' has not arrived by then (default 20)
  --alpn LIST            comma-separated ALPN protocols to offer (default: no ALPN)
  --perMessageDeflate    offer the permessage-deflate WebSocket extension (default: off)
  --verbose              diagnostics on stderr
`;

class UsageError extends Error {}

function parseArgs(argv) {
  const opts = {
    url: null, ca: null, cert: null, key: null, vmac: null, peer: null, name: null,
    timeout: 20, alpn: null, perMessageDeflate: false, verbose: false,
  };
  const valued = {
    '--url': 'url', '--ca': 'ca', '--cert': 'cert', '--key': 'key', '--vmac': 'vmac',
    '--peer': 'peer', '--name': 'name', '--timeout': 'timeout', '--alpn': 'alpn',
  };
  const flags = {
    '--perMessageDeflate': 'perMessageDeflate', '--per-message-deflate': 'perMessageDeflate',
    '--verbose': 'verbose', '-v': 'verbose',
  };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let inline = null;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      inline = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(USAGE);
      process.exit(0);
    } else if (valued[arg]) {
      let value = inline;
      if (value === null) {
        if (i + 1 >= argv.length) throw new UsageError(`${arg} needs a value`);
        value = argv[++i];
      }
      opts[valued[arg]] = value;
    } else if (flags[arg] && inline === null) {
      opts[flags[arg]] = true;
    } else {
      throw new UsageError(`unknown argument '${argv[i]}'`);
    }
  }
  for (const k of ['url', 'vmac', 'peer', 'name']) {
    if (opts[k] === null) throw new UsageError(`--${k} is required`);
  }
  let url;
  try {
    url = new URL(opts.url);
  } catch (e) {
    throw new UsageError(`--url '${opts.url}' is not a URL`);
  }
  if (url.protocol !== 'wss:' && url.protocol !== 'ws:') {
    throw new UsageError(`--url must be wss:// (or ws://), got '${opts.url}'`);
  }
  opts.secure = url.protocol === 'wss:';
  if (opts.secure) {
    for (const k of ['ca', 'cert', 'key']) {
      if (opts[k] === null) throw new UsageError(`--${k} is required for a wss:// URL`);
    }
  }
  const t = Number(opts.timeout);
  if (!Number.isFinite(t) || t <= 0) {
    throw new UsageError(`--timeout must be a positive number of seconds, got '${opts.timeout}'`);
  }
  opts.timeout = t;
  try {
    opts.vmacBuf = parseVmac(opts.vmac);
    opts.peerBuf = parseVmac(opts.peer);
  } catch (e) {
    throw new UsageError(e.message);
  }
  if (opts.vmacBuf.equals(BROADCAST_VMAC) || opts.vmacBuf.equals(Buffer.alloc(VMAC_LEN))) {
    throw new UsageError(`--vmac ${opts.vmac} is reserved and cannot be a node's VMAC`);
  }
  opts.alpnList = opts.alpn === null ? [] :
    opts.alpn.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  return opts;
}

// --- errors ---------------------------------------------------------------------------

/** One line describing a socket / TLS / WebSocket error, with the TLS alert if any. */
function describeError(err) {
  if (!err) return 'unknown error';
  const msg = String(err.message || err).trim().replace(/\s+/g, ' ');
  const bits = [];
  const alert = /alert ([a-z0-9 _]+?)(?::|$)/i.exec(err.reason || msg);
  const alertNo = /SSL alert number (\d+)/.exec(msg);
  if (alert || (err.code && /^ERR_SSL_/.test(err.code))) {
    let t = 'TLS error';
    if (alert) t += `: alert '${alert[1].trim()}'`;
    else if (err.reason) t += `: ${err.reason}`;
    if (alertNo) t += ` (alert number ${alertNo[1]})`;
    bits.push(t);
  }
  bits.push(msg);
  if (err.code && !msg.includes(err.code)) bits.push(`[${err.code}]`);
  return bits.join(' - ');
}

// --- the node ---------------------------------------------------------------------------

function loadWs() {
  try {
    return require('ws');
  } catch (e) {
    process.stderr.write(`sc_node: cannot load the 'ws' package (${e.message}); ` +
      `run 'npm ci --no-audit --no-fund' in ${__dirname}\n`);
    process.exit(1);
  }
  return null;
}

function readFileOrDie(what, path) {
  try {
    return fs.readFileSync(path);
  } catch (e) {
    throw new UsageError(`cannot read ${what} file '${path}': ${e.message}`);
  }
}

/**
 * The `ws` client options of a BACnet/SC node: TLS 1.3 with opts.cert / opts.key, only
 * opts.ca trusted (for a secure URL), ALPN opts.alpnList, max BVLC enforced.
 */
function wsOptions(opts) {
  const tls = {};
  if (opts.secure) {
    tls.ca = readFileOrDie('--ca', opts.ca);
    tls.cert = readFileOrDie('--cert', opts.cert);
    tls.key = readFileOrDie('--key', opts.key);
    tls.minVersion = 'TLSv1.3';
    tls.rejectUnauthorized = true;
    // BACnet/SC authenticates by certificate chain only (no host name check).
    tls.checkServerIdentity = () => undefined;
    if (opts.alpnList && opts.alpnList.length > 0) tls.ALPNProtocols = opts.alpnList;
  }
  return {
    ...tls,
    perMessageDeflate: Boolean(opts.perMessageDeflate),
    maxPayload: MAX_BVLC,
    handshakeTimeout: 10000,
    followRedirects: false,
  };
}

function run(opts) {
  const WebSocket = loadWs();
  const tag = `sc_node ${opts.name}`;
  const verbose = (text) => {
    if (opts.verbose) process.stderr.write(`${tag}: ${text}\n`);
  };
  const out = (line) => process.stdout.write(line + '\n');

  // States: opening -> connecting -> connected -> (disconnecting ->) closing -> done.
  let state = 'opening';
  let nextId = crypto.randomInt(0, 0x10000);
  const newId = () => {
    const id = nextId;
    nextId = (nextId + 1) & 0xffff;
    return id;
  };
  const timers = new Set();
  const after = (ms, fn) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
    return t;
  };
  const cancel = (t) => {
    if (t) {
      clearTimeout(t);
      timers.delete(t);
    }
  };

  let ws = null;
  let exiting = false;
  const exit = (code, errText) => {
    if (exiting) return;
    exiting = true;
    state = 'done';
    for (const t of timers) clearTimeout(t);
    timers.clear();
    if (errText) process.stderr.write(`${tag}: ${errText}\n`);
    if (ws && code !== 0) {
      try {
        ws.terminate();
      } catch (e) { /* already gone */ }
    }
    process.exitCode = code;
    // Flush both streams, then leave even if a socket is still open.
    process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  };
  const fail = (text) => exit(1, text);

  const options = wsOptions(opts);  // reads the PEM files: a missing one is a usage error

  const overall = after(opts.timeout * 1000, () => {
    exit(2, `timeout: ${opts.timeout} s passed without 'bye' (state ${state})`);
  });

  verbose(`connecting to ${opts.url} as ${vmacStr(opts.vmacBuf)}` +
    (opts.secure ? `, ALPN offered: ${opts.alpnList.length ? opts.alpnList.join(',') : 'none'}` : '') +
    `, permessage-deflate ${opts.perMessageDeflate ? 'offered' : 'not offered'}`);

  try {
    ws = new WebSocket(opts.url, SUBPROTOCOL, options);
  } catch (e) {
    fail(`cannot start the WebSocket connection: ${describeError(e)}`);
    return;
  }

  const send = (buf, what) => {
    verbose(`send ${what}: ${buf.toString('hex')}`);
    ws.send(buf, { binary: true, compress: opts.perMessageDeflate }, (err) => {
      if (err && !exiting) fail(`sending ${what} failed: ${describeError(err)}`);
    });
  };

  let connectTimer = null;
  let connectId = null;
  let disconnectTimer = null;
  let disconnectId = null;
  let closeTimer = null;
  // What to do once the WebSocket close completes, for a close we expect.
  let onClosed = null;

  const closeThen = (what, thenFn, strict) => {
    state = 'closing';
    onClosed = thenFn;
    closeTimer = after(3000, () => {
      if (strict) {
        fail(`the WebSocket close handshake did not complete within 3 s after ${what}`);
      } else {
        verbose(`close handshake did not complete within 3 s after ${what}; dropping it`);
        try {
          ws.terminate();
        } catch (e) { /* already gone */ }
        const fn = onClosed;
        onClosed = null;
        if (fn) fn();
      }
    });
    try {
      ws.close(1000, '');
    } catch (e) {
      fail(`closing the WebSocket failed: ${describeError(e)}`);
    }
  };

  ws.on('upgrade', (res) => {
    const s = res.socket;
    if (s && typeof s.getProtocol === 'function') {
      const cipher = s.getCipher();
      verbose(`TLS ${s.getProtocol()}, cipher ${cipher ? cipher.name : '?'}, ALPN ` +
        `${s.alpnProtocol ? s.alpnProtocol : 'none'}`);
    }
    verbose(`HTTP ${res.statusCode} upgrade; Sec-WebSocket-Protocol: ` +
      `${res.headers['sec-websocket-protocol'] || '(none)'}; Sec-WebSocket-Extensions: ` +
      `${res.headers['sec-websocket-extensions'] || '(none)'}`);
  });

  ws.on('unexpected-response', (req, res) => {
    const chunks = [];
    let size = 0;
    const report = () => {
      const body = Buffer.concat(chunks).toString('utf8').trim().replace(/\s+/g, ' ');
      fail(`WebSocket upgrade refused: HTTP ${res.statusCode} ${res.statusMessage || ''}`.trim() +
        (body ? ` - ${body.slice(0, 300)}` : ''));
      req.destroy();
    };
    res.on('data', (c) => {
      if (size < 1024) chunks.push(c);
      size += c.length;
    });
    res.on('end', report);
    res.on('error', report);
    after(1000, report);
  });

  ws.on('open', () => {
    if (ws.protocol !== SUBPROTOCOL) {
      fail(`hub selected subprotocol '${ws.protocol}', expected '${SUBPROTOCOL}'`);
      return;
    }
    verbose(`WebSocket open; extensions: ${ws.extensions || '(none)'}`);
    state = 'connecting';
    connectId = newId();
    const uuid = crypto.randomBytes(UUID_LEN);
    verbose(`device UUID ${uuidStr(uuid)}`);
    send(build.connectRequest(connectId, opts.vmacBuf, uuid), 'Connect-Request');
    connectTimer = after(5000, () => fail('no Connect-Accept within 5 s of the Connect-Request'));
  });

  const onConnectingMessage = (msg) => {
    if (msg.fn === FN.CONNECT_ACCEPT) {
      if (msg.msgId !== connectId) {
        fail(`Connect-Accept has message id 0x${msg.msgId.toString(16)}, ` +
          `the Connect-Request had 0x${connectId.toString(16)}`);
        return;
      }
      let p;
      try {
        p = decodeConnectPayload(msg.payload);
      } catch (e) {
        fail(`bad Connect-Accept: ${e.message}`);
        return;
      }
      cancel(connectTimer);
      verbose(`Connect-Accept: hub VMAC ${vmacStr(p.vmac)}, UUID ${uuidStr(p.uuid)}, ` +
        `max BVLC ${p.maxBvlc}, max NPDU ${p.maxNpdu}`);
      state = 'connected';
      out('connected');
      send(build.npdu(newId(), opts.peerBuf, Buffer.from(`hello from ${opts.name}`)),
        'unicast Encapsulated-NPDU');
      send(build.npdu(newId(), BROADCAST_VMAC, Buffer.from(`broadcast from ${opts.name}`)),
        'broadcast Encapsulated-NPDU');
      out('sent');
    } else if (msg.fn === FN.RESULT) {
      fail(`the hub refused the Connect-Request: ${describeResult(msg.payload)}`);
    } else {
      fail(`expected Connect-Accept, got ${functionName(msg.fn)} ` +
        `(id 0x${msg.msgId.toString(16)})`);
    }
  };

  const printable = (buf) =>
    buf.toString('utf8').replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${hex2(c.charCodeAt(0))}`);

  const onConnectedMessage = (msg) => {
    switch (msg.fn) {
      case FN.ENCAPSULATED_NPDU: {
        const orig = msg.orig ? vmacStr(msg.orig) : '-';
        out(`npdu ${orig} ${printable(msg.payload)}`);
        const text = msg.payload.toString('latin1');
        if (!msg.orig) {
          process.stderr.write(`${tag}: warning: Encapsulated-NPDU without an Originating ` +
            `Virtual Address (cannot answer it)\n`);
          return;
        }
        if (text.startsWith('ping:')) {
          const reply = Buffer.concat([Buffer.from('pong:'), msg.payload.subarray(5)]);
          send(build.npdu(newId(), Buffer.from(msg.orig), reply), `pong to ${orig}`);
        } else if (text === 'bye' && state === 'connected') {
          cancel(overall);
          state = 'disconnecting';
          disconnectId = newId();
          send(build.disconnectRequest(disconnectId), 'Disconnect-Request');
          disconnectTimer = after(2000, () => {
            fail('no Disconnect-ACK within 2 s of the Disconnect-Request');
          });
        }
        return;
      }
      case FN.HEARTBEAT_REQUEST:
        send(build.heartbeatAck(msg.msgId), 'Heartbeat-ACK');
        return;
      case FN.DISCONNECT_REQUEST:
        cancel(overall);
        send(build.disconnectAck(msg.msgId), 'Disconnect-ACK');
        out('disconnected');
        closeThen('the hub\'s Disconnect-Request', () => exit(0), false);
        return;
      default:
        if (msg.fn === FN.RESULT) verbose(`BVLC-Result: ${describeResult(msg.payload)}`);
        out(`other ${functionHex(msg.fn)}`);
    }
  };

  const onDisconnectingMessage = (msg) => {
    if (msg.fn === FN.DISCONNECT_ACK) {
      if (msg.msgId !== disconnectId) {
        fail(`Disconnect-ACK has message id 0x${msg.msgId.toString(16)}, ` +
          `the Disconnect-Request had 0x${disconnectId.toString(16)}`);
        return;
      }
      cancel(disconnectTimer);
      closeThen('the Disconnect-ACK', () => {
        out('disconnected');
        exit(0);
      }, true);
    } else if (msg.fn === FN.RESULT && msg.payload.length >= 1 &&
               msg.payload[0] === FN.DISCONNECT_REQUEST) {
      fail(`the hub answered the Disconnect-Request with ${describeResult(msg.payload)}`);
    } else {
      // Still connected until the ACK: keep serving (no new bye handling needed).
      onConnectedMessage(msg);
      if (state === 'closing') cancel(disconnectTimer);
    }
  };

  ws.on('message', (data, isBinary) => {
    if (exiting) return;
    const raw = Buffer.isBuffer(data) ? data : Buffer.concat([].concat(data));
    if (!isBinary) {
      fail(`the hub sent a text WebSocket message (BVLC-SC uses binary only): ` +
        `'${raw.toString('utf8').slice(0, 100)}'`);
      return;
    }
    let msg;
    try {
      msg = decode(raw);
    } catch (e) {
      fail(`malformed BVLC-SC message from the hub: ${e.message} (${raw.toString('hex')})`);
      return;
    }
    verbose(`recv ${functionName(msg.fn)} id 0x${msg.msgId.toString(16).padStart(4, '0')}` +
      (msg.orig ? ` O=${vmacStr(msg.orig)}` : '') + (msg.dest ? ` D=${vmacStr(msg.dest)}` : '') +
      `: ${raw.toString('hex')}`);
    switch (state) {
      case 'connecting': onConnectingMessage(msg); break;
      case 'connected': onConnectedMessage(msg); break;
      case 'disconnecting': onDisconnectingMessage(msg); break;
      default: verbose(`ignored while ${state}`);
    }
  });

  ws.on('error', (err) => {
    if (exiting) return;
    const phase = state === 'opening' ? ' during the TLS / WebSocket opening handshake' : '';
    fail(`connection error${phase}: ${describeError(err)}`);
  });

  ws.on('close', (code, reasonBuf) => {
    if (exiting) return;
    const reason = reasonBuf && reasonBuf.length ? reasonBuf.toString('utf8') : '';
    verbose(`WebSocket closed: code ${code}${reason ? `, reason '${reason}'` : ''}`);
    if (state === 'closing' && onClosed) {
      cancel(closeTimer);
      const fn = onClosed;
      onClosed = null;
      fn();
      return;
    }
    const where = {
      opening: 'during the opening handshake',
      connecting: 'before Connect-Accept',
      connected: 'unexpectedly',
      disconnecting: 'before the Disconnect-ACK',
    }[state] || `while ${state}`;
    const note = code === 1006 ? ' (the connection was dropped without a Close frame)' : '';
    fail(`the WebSocket closed ${where}: close code ${code}` +
      `${reason ? `, reason '${reason}'` : ', no reason'}${note}`);
  });
}

function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`sc_node: ${e.message}\n${USAGE}`);
      process.exit(1);
    }
    throw e;
  }
  try {
    run(opts);
  } catch (e) {
    process.stderr.write(`sc_node ${opts.name}: ${e instanceof UsageError ? e.message : e.stack}\n`);
    process.exit(1);
  }
}

module.exports = {
  FN, encode, decode, parseVmac, vmacStr, build, describeResult, describeError, parseArgs,
  DecodeError, decodeConnectPayload, uuidStr, loadWs, wsOptions, UsageError, SUBPROTOCOL,
  BROADCAST_VMAC, UUID_LEN,
};

if (require.main === module) main();
