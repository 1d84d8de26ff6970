/**
 * parsePacket against frames built by os-ken's packet library (test/packet/osken_frames.py):
 * Ethernet, 802.3 LLC and SNAP, VLAN/QinQ/three tags, ARP/RARP, IPv4 TCP/UDP/SCTP/ICMP with
 * options and fragments, MPLS, PBB, IPv6 with every extension header kind and order, ICMPv6
 * and neighbour discovery. The whole flow key must equal, byte for byte, the key built from
 * the values the script handed to os-ken.
 */
import t from 'tap';
import { FLOW_KEY_BYTES, parsePacket } from '../../lib/packet/index.ts';
import { expectedKey, type FieldValues, keyFields, oskenUnavailable, runPython, vlanTags } from './helpers.ts';

interface OskenFrame {
  name: string;
  hex: string;
  fields: FieldValues;
  nw_ttl: number;
  mpls_ttl: number;
  nw_frag: number;
}

const skip = oskenUnavailable();
const IN_PORT = 7;

t.test('os-ken frames parse to the expected flow keys', { skip }, async (t) => {
  const frames = runPython('osken_frames.py').trim().split('\n').map((l) => JSON.parse(l) as OskenFrame);
  t.ok(frames.length >= 40, `${frames.length} frames`);
  const key = new Uint8Array(FLOW_KEY_BYTES);
  for (const frame of frames) {
    const data = Buffer.from(frame.hex, 'hex');
    parsePacket(data, key, IN_PORT);
    const want = expectedKey({ ...frame.fields, in_port: IN_PORT, in_phy_port: IN_PORT }, frame.nw_ttl, frame.mpls_ttl, frame.nw_frag, vlanTags(data));
    t.same(keyFields(key), keyFields(want), frame.name);
    t.ok(Buffer.from(key).equals(Buffer.from(want)), `${frame.name}: key bytes`);
  }
});
