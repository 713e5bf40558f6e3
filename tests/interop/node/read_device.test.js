// Unit tests of read_device.js against the vectors of docs/bacnet-device.md §12 (no hub):
// what @bacnet-js/client encodes and how it decodes, including what it cannot type.
// `node --test` in this folder; needs `npm ci` (meson: test device-js, suite interop).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { encodeRequest, decodeAnswer } = require('./read_device.js');

const h = (s) => Buffer.from(s.replace(/ /g, ''), 'hex');
const NPDU_REPLY = '01 04';  // version 1, expecting reply
const NPDU_PLAIN = '01 00';

test('requests are the §12 vectors', () => {
  assert.deepEqual(encodeRequest({ service: 'who-is' }, 0), h('01 20 FF FF 00 FF 10 08'));
  const rp = { service: 'read-property', object: [8, 4000], property: 77 };
  assert.deepEqual(encodeRequest(rp, 1), h(NPDU_REPLY + '00 05 01 0C 0C 02 00 0F A0 19 4D'));
  // An SC property identifier (above 4194303), which ReadProperty.encode would leave out.
  assert.deepEqual(encodeRequest({ service: 'read-property', object: [56, 1],
    property: 4194321 }, 3), h(NPDU_REPLY + '00 05 03 0C 0C 0E 00 00 01 1B 40 00 11'));
  const rpm = { service: 'read-property-multiple', specs: [
    { object: [8, 4000], properties: [77, 112, 139] }, { object: [56, 1], properties: [427] }] };
  assert.deepEqual(encodeRequest(rpm, 4), h(NPDU_REPLY + '00 05 04 0E 0C 02 00 0F A0 1E ' +
    '09 4D 09 70 09 8B 1F 0C 0E 00 00 01 1E 0A 01 AB 1F'));
});

test('answers decode as the §12 vectors say', () => {
  const iAm = decodeAnswer(h('01 20 FF FF 00 FF 10 00 C4 02 00 0F A0 22 05 C4 91 03 22 01 04'));
  assert.equal(iAm.npdu.destination.net, 0xffff);
  assert.deepEqual([iAm.service.deviceId, iAm.service.maxApdu, iAm.service.segmentation,
    iAm.service.vendorId], [4000, 1476, 3, 260]);
  const list = decodeAnswer(h(NPDU_PLAIN +
    '30 02 0C 0C 02 00 0F A0 19 4C 3E C4 02 00 0F A0 C4 0E 00 00 01 3F'));
  assert.deepEqual(list.service.values.map((v) => [v.type, v.value]),
    [[12, { type: 8, instance: 4000 }], [12, { type: 56, instance: 1 }]]);
  const rpm = decodeAnswer(h(NPDU_PLAIN + '30 04 0E 0C 02 00 0F A0 1E 29 4D 4E 75 08 00 48 75 ' +
    '62 73 74 65 72 4F 29 70 4E 91 00 4F 29 8B 4E 21 18 4F 1F 0C 0E 00 00 01 1E 2A 01 AB 4E 91 ' +
    '0B 4F 2A 01 A5 5E 91 02 91 20 5F 1F'));
  const [device, port] = rpm.service.values;
  assert.deepEqual(device.values.map((r) => [r.id, r.value[0].value]),
    [[77, 'Hubster'], [112, 0], [139, 24]]);
  assert.deepEqual(port.values[1].value[0].value, { errorClass: 2, errorCode: 32 });
  const err = decodeAnswer(h(NPDU_PLAIN + '50 01 0C 91 01 91 1F'));
  assert.deepEqual([err.apdu.service, err.service.class, err.service.code], [12, 1, 31]);
  const reject = decodeAnswer(h(NPDU_PLAIN + '60 07 09'));
  assert.deepEqual([reject.apdu.type, reject.apdu.invokeId, reject.apdu.reason], [0x60, 7, 9]);
});

test('an SC constructed value is only raw context-tagged octets to the library', () => {
  // A connected SC_Hub_Function_Connection_Status entry (§12), in an RP-ACK.
  const uuid = '00112233445566778899AABBCCDDEEFF';
  const entry = '09 01 1E A4 7C 05 11 05 B4 0A 1E 00 00 1F 2E A4 FF FF FF FF B4 FF FF FF FF 2F ' +
    '3E 0E 1C C0 A8 01 6D 0F 1A C4 2E 3F 4D 06 F2 6C E3 7A 66 2A 5D 10' + uuid;
  const got = decodeAnswer(h(NPDU_PLAIN + '30 03 0C 0C 0E 00 00 01 1B 40 00 11 3E' + entry + '3F'));
  const raw = (v) => Buffer.from(v.value.value).toString('hex');
  const [state, , , , vmac, id] = got.service.values;
  assert.equal(raw(state), '01');  // connected, but as an untyped octet
  assert.equal(raw(vmac), 'f26ce37a662a');
  assert.equal(raw(id), uuid.toLowerCase());
  // The unspecified disconnect time (all 0xFF) comes back as a real date: the library
  // does not know the field is a BACnetDateTime that may be unspecified.
  assert.equal(got.service.values[2].value[0].value.toISOString().slice(0, 4), '1900');
});
