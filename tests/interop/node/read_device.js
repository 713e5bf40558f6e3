#!/usr/bin/env node
// A BACnet/SC requester that reads the hub's BACnet device and decodes every answer with an
// independent BACnet library, @bacnet-js/client (npm, pinned in package-lock.json).
//
// Usage:
//   node read_device.js --url wss://127.0.0.1:PORT/ --ca CA.pem --cert NODE.pem --key NODE.key
//                       --vmac 02:00:00:00:00:0a [--timeout 20] < PLAN.json
//
// PLAN (stdin) is {"requests": [REQUEST, ...]}, each REQUEST one of
//   {"name": N, "service": "who-is"}                                  global broadcast
//   {"name": N, "service": "read-property", "object": [TYPE, INSTANCE], "property": ID,
//    "index": I (optional)}
//   {"name": N, "service": "read-property-multiple",
//    "specs": [{"object": [TYPE, INSTANCE], "properties": [ID or [ID, INDEX], ...]}, ...]}
//   {"name": N, "service": "write-property", "object": [TYPE, INSTANCE], "property": ID,
//    "value": TEXT}                                                   a CharacterString
// The requests are encoded with the library's encoders and sent, one at a time, to the hub's
// VMAC (from its Connect-Accept); Who-Is goes to the broadcast VMAC. The answer to each is
// the next Encapsulated-NPDU whose origin is the hub's VMAC.
//
// stdout: one JSON document {"hub": {vmac, uuid, maxBvlc, maxNpdu}, "answers": [ANSWER, ...]}
// with ANSWER {name, request, answer (the NPDU octets, hex), npdu, apdu, service}: npdu and
// apdu are the library's NPDU and APDU header decodings, service its decoding of the service
// data (IAm, ReadProperty / ReadPropertyMultiple acknowledge, Error), exactly as the library
// returns them (Buffers as hex). Exit 0 after a clean Disconnect-Request; 1 on any failure
// (a sentence on stderr), 2 when --timeout seconds pass first.

'use strict';

const path = require('node:path');
const crypto = require('node:crypto');
const sc = require('./sc_node');

// The library's wire modules; its index exports only the UDP client and the enumerations.
const LIB = '@bacnet-js/client/dist/lib/';
const lib = {
  enums: require(LIB + 'enum'),
  asn1: require(LIB + 'asn1'),
  npdu: require(LIB + 'npdu'),
  apdu: require(LIB + 'apdu'),
  services: require(LIB + 'services'),
};

const ANSWER_WAIT_MS = 5000;

// --- command line ---------------------------------------------------------------------

const USAGE = `usage: node ${path.basename(__filename)} --url wss://HOST:PORT/ --ca CA.pem ` +
  '--cert NODE.pem --key NODE.key --vmac VMAC [--timeout SECONDS] < PLAN.json\n';

function parseArgs(argv) {
  const opts = { url: null, ca: null, cert: null, key: null, vmac: null, timeout: 20 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in opts) || i + 1 >= argv.length) {
      throw new sc.UsageError(`unknown argument or missing value: '${argv[i]}'`);
    }
    opts[key] = argv[i + 1];
  }
  for (const k of ['url', 'ca', 'cert', 'key', 'vmac']) {
    if (opts[k] === null) throw new sc.UsageError(`--${k} is required`);
  }
  opts.secure = true;
  opts.timeout = Number(opts.timeout);
  opts.vmacBuf = sc.parseVmac(opts.vmac);
  return opts;
}

// --- encoding with the library --------------------------------------------------------

const E = lib.enums;

function encodeRequest(req, invokeId) {
  const buf = { buffer: Buffer.alloc(1500), offset: 0 };
  const confirmed = (service) => {
    lib.npdu.encode(buf, E.NpduControlPriority.NORMAL_MESSAGE | E.NpduControlBit.EXPECTING_REPLY);
    lib.apdu.encodeConfirmedServiceRequest(buf, E.PduType.CONFIRMED_REQUEST, service,
      E.MaxSegmentsAccepted.SEGMENTS_0, E.MaxApduLengthAccepted.OCTETS_1476, invokeId);
  };
  const [type, instance] = req.object || [];
  switch (req.service) {
    case 'who-is':
      lib.npdu.encode(buf, E.NpduControlPriority.NORMAL_MESSAGE, { net: 0xffff }, null, 255);
      lib.apdu.encodeUnconfirmedServiceRequest(buf, E.PduType.UNCONFIRMED_REQUEST,
        E.UnconfirmedServiceChoice.WHO_IS);
      lib.services.WhoIs.encode(buf);
      break;
    case 'read-property':
      confirmed(E.ConfirmedServiceChoice.READ_PROPERTY);
      if (req.property <= E.ASN1_MAX_PROPERTY_ID) {
        lib.services.ReadProperty.encode(buf, type, instance, req.property,
          req.index === undefined ? E.ASN1_ARRAY_ALL : req.index);
      } else {
        // ReadProperty.encode leaves out a property identifier above 4194303 (the library
        // predates the SC ones of Addendum 135-2020cc): the same fields from its primitives.
        lib.asn1.encodeContextObjectId(buf, 0, type, instance);
        lib.asn1.encodeContextEnumerated(buf, 1, req.property);
        if (req.index !== undefined) lib.asn1.encodeContextUnsigned(buf, 2, req.index);
      }
      break;
    case 'read-property-multiple':
      confirmed(E.ConfirmedServiceChoice.READ_PROPERTY_MULTIPLE);
      lib.services.ReadPropertyMultiple.encode(buf, req.specs.map((s) => ({
        objectId: { type: s.object[0], instance: s.object[1] },
        properties: s.properties.map((p) => (Array.isArray(p) ?
          { id: p[0], index: p[1] } : { id: p, index: E.ASN1_ARRAY_ALL })),
      })));
      break;
    case 'write-property':
      confirmed(E.ConfirmedServiceChoice.WRITE_PROPERTY);
      lib.services.WriteProperty.encode(buf, type, instance, req.property, E.ASN1_ARRAY_ALL,
        E.ASN1_NO_PRIORITY, [{ type: E.ApplicationTag.CHARACTER_STRING, value: req.value }]);
      break;
    default:
      throw new sc.UsageError(`unknown service '${req.service}' in the plan`);
  }
  return buf.buffer.subarray(0, buf.offset);
}

// --- decoding with the library --------------------------------------------------------

/** The library's decoding of one NPDU the device sent: NPDU header, APDU header, service. */
function decodeAnswer(npduBuf) {
  const npdu = lib.npdu.decode(npduBuf, 0);
  if (!npdu) throw new Error(`the library refuses the NPDU ${npduBuf.toString('hex')}`);
  const buf = npduBuf.subarray(npdu.len);
  const type = lib.apdu.getDecodedType(buf, 0) & E.PDU_TYPE_MASK;
  let apdu;
  let service = null;
  // As the library's own client does (client.js _handlePdu), with the service decoders it
  // would call for these answers.
  switch (type) {
    case E.PduType.UNCONFIRMED_REQUEST:
      apdu = lib.apdu.decodeUnconfirmedServiceRequest(buf, 0);
      if (apdu.service === E.UnconfirmedServiceChoice.I_AM) {
        service = lib.services.IAm.decode(buf, apdu.len);
      }
      break;
    case E.PduType.COMPLEX_ACK:
      apdu = lib.apdu.decodeComplexAck(buf, 0);
      if (apdu.service === E.ConfirmedServiceChoice.READ_PROPERTY) {
        service = lib.services.ReadProperty.decodeAcknowledge(buf, apdu.len, buf.length - apdu.len);
      } else if (apdu.service === E.ConfirmedServiceChoice.READ_PROPERTY_MULTIPLE) {
        service = lib.services.ReadPropertyMultiple.decodeAcknowledge(buf, apdu.len,
          buf.length - apdu.len);
      }
      break;
    case E.PduType.ERROR:
      apdu = lib.apdu.decodeError(buf, 0);
      service = lib.services.ErrorService.decode(buf, apdu.len);
      break;
    case E.PduType.REJECT:
    case E.PduType.ABORT:  // the same three octets: type, invoke ID, reason
      apdu = lib.apdu.decodeAbort(buf, 0);
      break;
    default:
      throw new Error(`PDU type 0x${type.toString(16)} is not an answer the device sends`);
  }
  if (service === undefined) service = 'the library could not decode the service data';
  return { npdu, apdu, service };
}

/** JSON with Buffers (the library's octet strings are plain arrays) as hex. */
function toJson(value) {
  return JSON.stringify(value, (k, v) => {
    const isBuffer = v && v.type === 'Buffer' && Array.isArray(v.data);
    return isBuffer ? Buffer.from(v.data).toString('hex') : v;
  });
}

// --- the exchange -----------------------------------------------------------------------

/** BVLC-SC messages of one WebSocket, awaited one at a time. */
class Inbox {
  constructor(ws, onFail) {
    this.queue = [];
    this.waiter = null;
    ws.on('message', (data) => {
      let msg;
      try {
        msg = sc.decode(Buffer.isBuffer(data) ? data : Buffer.concat([].concat(data)));
      } catch (e) {
        onFail(`malformed BVLC-SC message from the hub: ${e.message}`);
        return;
      }
      if (msg.fn === sc.FN.HEARTBEAT_REQUEST) {
        ws.send(sc.build.heartbeatAck(msg.msgId));
        return;
      }
      this.queue.push(msg);
      if (this.waiter) this.waiter();
    });
  }

  async next(what, ms = ANSWER_WAIT_MS) {
    if (this.queue.length === 0) {
      await new Promise((resolve, reject) => {
        const t = setTimeout(() => {
          this.waiter = null;
          reject(new Error(`no ${what} within ${ms} ms`));
        }, ms);
        this.waiter = () => {
          clearTimeout(t);
          this.waiter = null;
          resolve();
        };
      });
    }
    return this.queue.shift();
  }
}

async function exchange(opts, plan) {
  const WebSocket = sc.loadWs();
  const ws = new WebSocket(opts.url, sc.SUBPROTOCOL, sc.wsOptions(opts));
  let failed = null;
  const failure = new Promise((resolve, reject) => {
    failed = reject;
  });
  failure.catch(() => {});
  ws.on('error', (e) => failed(new Error(`connection error: ${sc.describeError(e)}`)));
  ws.on('close', (code) => failed(new Error(`the WebSocket closed (code ${code})`)));
  const inbox = new Inbox(ws, (text) => failed(new Error(text)));
  const race = (p) => Promise.race([p, failure]);

  await race(new Promise((resolve) => ws.once('open', resolve)));
  let msgId = crypto.randomInt(0, 0x10000);
  const nextId = () => (msgId = (msgId + 1) & 0xffff);
  const connectId = nextId();
  ws.send(sc.build.connectRequest(connectId, opts.vmacBuf, crypto.randomBytes(sc.UUID_LEN)));
  const accept = await race(inbox.next('Connect-Accept'));
  if (accept.fn !== sc.FN.CONNECT_ACCEPT || accept.msgId !== connectId) {
    throw new Error(`expected the Connect-Accept, got function 0x${accept.fn.toString(16)}` +
      (accept.fn === sc.FN.RESULT ? `: ${sc.describeResult(accept.payload)}` : ''));
  }
  const hub = sc.decodeConnectPayload(accept.payload);

  const answers = [];
  for (const [i, req] of plan.requests.entries()) {
    const request = encodeRequest(req, i & 0xff);
    const dest = req.service === 'who-is' ? sc.BROADCAST_VMAC : hub.vmac;
    ws.send(sc.build.npdu(nextId(), dest, request));
    let msg;
    do {  // a broadcast Who-Is may also bring back what other nodes send: skip those
      msg = await race(inbox.next(`answer to '${req.name}'`));
    } while (msg.fn !== sc.FN.ENCAPSULATED_NPDU || !msg.orig || !msg.orig.equals(hub.vmac));
    answers.push({
      name: req.name,
      request: request.toString('hex'),
      answer: msg.payload.toString('hex'),
      destination: msg.dest ? sc.vmacStr(msg.dest) : null,
      ...decodeAnswer(msg.payload),
    });
  }

  const byeId = nextId();
  ws.send(sc.build.disconnectRequest(byeId));
  let ack;
  do {
    ack = await race(inbox.next('Disconnect-ACK'));
  } while (ack.fn !== sc.FN.DISCONNECT_ACK);
  ws.removeAllListeners('close');
  ws.close(1000);
  return {
    hub: {
      vmac: sc.vmacStr(hub.vmac), uuid: hub.uuid.toString('hex'),
      maxBvlc: hub.maxBvlc, maxNpdu: hub.maxNpdu,
    },
    answers,
  };
}

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on('data', (c) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`read_device: ${e.message}\n${USAGE}`);
    process.exit(1);
  }
  const timer = setTimeout(() => {
    process.stderr.write(`read_device: timeout: ${opts.timeout} s passed\n`);
    process.exit(2);
  }, opts.timeout * 1000);
  try {
    const plan = JSON.parse(await readStdin());
    const result = await exchange(opts, plan);
    clearTimeout(timer);
    process.stdout.write(toJson(result) + '\n', () => process.exit(0));
  } catch (e) {
    process.stderr.write(`read_device: ${e.message}\n`);
    process.exit(1);
  }
}

module.exports = { encodeRequest, decodeAnswer };

if (require.main === module) main();
