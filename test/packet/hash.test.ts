/**
 * flowHash, the SELECT-group hash: stable, sensitive to exactly the L2-L4 fields that tell
 * flows apart (MACs included), blind to the rest, marks what it read in a megaflow mask, and
 * spreads flows evenly.
 */
import t from 'tap';
import { buildFrame, FIELD_SLOTS, fieldSlot, flowHash, FLOW_KEY_BYTES, NW_TTL_OFFSET, parsePacket } from '../../lib/packet/index.ts';
import type { OxmFieldName } from '../../protocol/index.ts';

const HASHED: OxmFieldName[] = [
  'eth_dst', 'eth_src', 'vlan_vid', 'eth_type', 'ip_proto', 'ipv4_src', 'ipv4_dst', 'ipv6_src', 'ipv6_dst',
  'tcp_src', 'tcp_dst', 'udp_src', 'udp_dst', 'sctp_src', 'sctp_dst',
];

function keyOf(frame: Buffer, inPort = 1): Uint8Array {
  const key = new Uint8Array(FLOW_KEY_BYTES);
  parsePacket(frame, key, inPort);
  return key;
}

const BASE_FRAME = buildFrame({ vlans: [{ vid: 3 }], ipv4: { src: '10.0.0.1', dst: '10.0.0.2' }, tcp: { src: 1000, dst: 80 } });
const BASE = keyOf(BASE_FRAME);

t.test('stable', async (t) => {
  t.equal(flowHash(BASE), flowHash(new Uint8Array(BASE)), 'same key, same hash');
  t.equal(flowHash(BASE), 2494624988, 'the value does not drift between releases');
  t.not(flowHash(BASE, undefined, 1), flowHash(BASE), 'the basis changes it');
});

t.test('every hashed field matters, others do not', async (t) => {
  const h = flowHash(BASE);
  for (const name of HASHED) {
    const key = new Uint8Array(BASE);
    const slot = fieldSlot(name);
    key[slot.offset + slot.bytes - 1]! ^= 1;
    t.not(flowHash(key), h, `${name}`);
  }
  for (const slot of FIELD_SLOTS.filter((s) => !HASHED.includes(s.name))) {
    const key = new Uint8Array(BASE);
    key[slot.offset + slot.bytes - 1]! ^= 1;
    t.equal(flowHash(key), h, `${slot.name} ignored`);
  }
  const key = new Uint8Array(BASE);
  key[NW_TTL_OFFSET] = 1;
  t.equal(flowHash(key), h, 'TTL ignored');
  t.equal(flowHash(keyOf(BASE_FRAME, 9)), h, 'in_port ignored');
});

t.test('the fields read are marked in the mask', async (t) => {
  const mask = new Uint8Array(FLOW_KEY_BYTES);
  flowHash(BASE, mask);
  for (const slot of FIELD_SLOTS) {
    const got = Buffer.from(mask.subarray(slot.offset, slot.offset + slot.bytes));
    const want = HASHED.includes(slot.name) ? Buffer.from(slot.fullMask) : Buffer.alloc(slot.bytes);
    t.ok(got.equals(want), `${slot.name}: ${got.toString('hex')}`);
  }
});

t.test('flows spread evenly', async (t) => {
  const buckets = [0, 0, 0, 0, 0];
  const N = 10000;
  for (let i = 0; i < N; i++) {
    const frame = buildFrame({ ipv4: { src: `10.0.${i >> 8}.${i & 255}`, dst: '10.1.0.1' }, udp: { src: 1024 + (i % 7), dst: 53 } });
    buckets[flowHash(keyOf(frame)) % buckets.length]!++;
  }
  for (const n of buckets) t.ok(Math.abs(n - N / buckets.length) < N / buckets.length * 0.1, `bucket ${n}`);
  const macs = new Set<number>();
  for (let i = 0; i < 256; i++) {
    macs.add(flowHash(keyOf(buildFrame({ ethSrc: `02:00:00:00:00:${i.toString(16).padStart(2, '0')}`, ethType: 0x88b5 }))) % 4);
  }
  t.equal(macs.size, 4, 'non-IP frames spread by MAC');
});
