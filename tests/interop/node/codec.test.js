// Unit tests of sc_node.js's BVLC-SC codec: `node --test` in this folder (no hub needed).
// The expected bytes are the same as tests/integration/lib/bvlc.py produces.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const sc = require('./sc_node.js');

const A = sc.parseVmac('02:A1:B2:C3:D4:E5');
const B = sc.parseVmac('12F0E1D2C3B4');
const UUID_A = Buffer.from('00112233445566778899AABBCCDDEEFF', 'hex');
const NPDU = Buffer.from('01040000010C0C000000051955', 'hex');
const hex = (b) => b.toString('hex').toUpperCase();

test('Connect-Request', () => {
  assert.equal(hex(sc.build.connectRequest(0x0001, A, UUID_A)),
    '0600000102A1B2C3D4E500112233445566778899AABBCCDDEEFF064005D9');
});

test('bare control messages', () => {
  assert.equal(hex(sc.build.heartbeatAck(0x0102)), '0B000102');
  assert.equal(hex(sc.build.disconnectRequest(0x0203)), '08000203');
  assert.equal(hex(sc.build.disconnectAck(0x0203)), '09000203');
});

test('unicast and broadcast Encapsulated-NPDU as a node sends them', () => {
  assert.equal(hex(sc.build.npdu(0xB5EC, B, NPDU)),
    '0104B5EC12F0E1D2C3B401040000010C0C000000051955');
  assert.equal(hex(sc.build.npdu(0x0010, Buffer.alloc(6, 0xff), NPDU)),
    '01040010FFFFFFFFFFFF01040000010C0C000000051955');
});

test('decode what the hub forwards', () => {
  let m = sc.decode(Buffer.from('0108B5EC02A1B2C3D4E501040000010C0C000000051955', 'hex'));
  assert.equal(m.fn, sc.FN.ENCAPSULATED_NPDU);
  assert.equal(m.msgId, 0xB5EC);
  assert.equal(sc.vmacStr(m.orig), '02:a1:b2:c3:d4:e5');
  assert.equal(m.dest, null);
  assert.equal(hex(m.payload), hex(NPDU));

  m = sc.decode(Buffer.from('010C001002A1B2C3D4E5FFFFFFFFFFFF01040000010C0C000000051955', 'hex'));
  assert.equal(sc.vmacStr(m.dest), 'ff:ff:ff:ff:ff:ff');
  assert.equal(hex(m.payload), hex(NPDU));

  // Destination options (proprietary with data) and a Secure Path data option.
  m = sc.decode(Buffer.from(
    '010B003002A1B2C3D4E53F0006022B01C0FFEE4101040000010C0C000000051955', 'hex'));
  assert.equal(m.destOptions.length, 1);
  assert.equal(hex(m.destOptions[0].data), '022B01C0FFEE');
  assert.equal(m.dataOptions.length, 1);
  assert.equal(m.dataOptions[0].marker, 0x41);
  assert.equal(hex(m.payload), hex(NPDU));
});

test('malformed headers are rejected', () => {
  assert.throws(() => sc.decode(Buffer.from('010800', 'hex')), sc.DecodeError);
  assert.throws(() => sc.decode(Buffer.from('0108000102A1B2', 'hex')), sc.DecodeError);
  assert.throws(() => sc.decode(Buffer.from('01020001BF', 'hex')), sc.DecodeError);
});

test('NAK description', () => {
  const m = sc.decode(Buffer.from('000000700D01000007008F62616420666E', 'hex'));
  assert.match(sc.describeResult(m.payload), /NAK for function 0x0d: error class 7, error code 143.*'bad fn'/);
});

test('VMAC parsing', () => {
  assert.equal(sc.vmacStr(sc.parseVmac('02-00-00-00-00-0A')), '02:00:00:00:00:0a');
  assert.throws(() => sc.parseVmac('02:00:00'));
});
