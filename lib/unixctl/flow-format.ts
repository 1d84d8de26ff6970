/*
 * Text forms of flows, matches and actions as Open vSwitch prints them in `ovs-appctl` and
 * `ovs-ofctl` output:
 *
 *  - a match (value, mask) over the flow-key layout, in ovs-ofctl's field names and order:
 *    `tcp,in_port=1,dl_vlan=10,dl_src=00:00:00:00:00:01,nw_dst=10.0.0.0/8,tp_dst=80`, with
 *    the protocol shorthand (`ip`, `tcp`, `arp`, `udp6`, ...) standing for dl_type and
 *    nw_proto, and the datapath-only bytes as `nw_ttl` / `mpls_ttl` / `nw_frag`;
 *  - a packet's whole flow (`Flow:` in a trace): every field the packet has, zeros included;
 *  - OpenFlow instructions and actions (`set_field:00:00:00:00:00:99->eth_dst`, `output:2`,
 *    `group:1`, `goto_table:1`, `CONTROLLER:65535`, `NORMAL`);
 *  - datapath actions (`set(eth(dst=00:00:00:00:00:99)),2`, `userspace(controller(...))`,
 *    `drop`).
 *
 * Matches come out as ordered (name, value) pairs too, for JSON output; a shorthand's value
 * is undefined.
 */
import {
  type Action, type Instruction, OFPP_ALL, OFPP_ANY, OFPP_CONTROLLER, OFPP_FLOOD, OFPP_IN_PORT, OFPP_LOCAL, OFPP_NORMAL,
  OFPP_TABLE, OFPR_ACTION, OFPR_INVALID_TTL, OFPR_NO_MATCH, type OxmFieldName, oxmFieldSpec, oxmValueFromBytes,
  type PrereqState,
} from '../../protocol/index.ts';
import type { DpAction } from '../datapath/index.ts';
import {
  FIELD_SLOTS, fieldSlot, FLOW_KEY_BYTES, type FieldSlot, FRAG_LATER, MPLS_TTL_OFFSET, NW_FRAG_OFFSET, NW_TTL_OFFSET,
} from '../packet/index.ts';

/** One field of a formatted match: ovs-ofctl's name and the value text (undefined for a shorthand like `tcp`). */
export type MatchPair = [name: string, value: string | undefined];

const ETH_TYPE_IP = 0x0800;
const ETH_TYPE_IPV6 = 0x86dd;
const SHORTHANDS: Record<number, { name: string; protocols: Record<number, string> }> = {
  [ETH_TYPE_IP]: { name: 'ip', protocols: { 1: 'icmp', 6: 'tcp', 17: 'udp', 132: 'sctp' } },
  [ETH_TYPE_IPV6]: { name: 'ipv6', protocols: { 6: 'tcp6', 17: 'udp6', 58: 'icmp6', 132: 'sctp6' } },
  0x0806: { name: 'arp', protocols: {} },
  0x8035: { name: 'rarp', protocols: {} },
  0x8847: { name: 'mpls', protocols: {} },
  0x8848: { name: 'mplsm', protocols: {} },
};

/** ovs-ofctl's names of the match fields, in the order it prints them (`vlan_vid` is special-cased). */
const MATCH_ORDER: Array<[OxmFieldName | 'nw_ttl' | 'mpls_ttl' | 'nw_frag', string]> = [
  ['tunnel_id', 'tun_id'], ['metadata', 'metadata'], ['in_port', 'in_port'], ['in_phy_port', 'in_phy_port'],
  ['vlan_vid', 'dl_vlan'], ['vlan_pcp', 'dl_vlan_pcp'], ['eth_src', 'dl_src'], ['eth_dst', 'dl_dst'], ['eth_type', 'dl_type'],
  ['ipv4_src', 'nw_src'], ['ipv4_dst', 'nw_dst'], ['ipv6_src', 'ipv6_src'], ['ipv6_dst', 'ipv6_dst'], ['ipv6_flabel', 'ipv6_label'],
  ['ip_proto', 'nw_proto'], ['ip_dscp', 'nw_tos'], ['ip_ecn', 'nw_ecn'], ['nw_ttl', 'nw_ttl'], ['nw_frag', 'nw_frag'],
  ['arp_spa', 'arp_spa'], ['arp_tpa', 'arp_tpa'], ['arp_op', 'arp_op'], ['arp_sha', 'arp_sha'], ['arp_tha', 'arp_tha'],
  ['tcp_src', 'tp_src'], ['tcp_dst', 'tp_dst'], ['udp_src', 'tp_src'], ['udp_dst', 'tp_dst'], ['sctp_src', 'tp_src'], ['sctp_dst', 'tp_dst'],
  ['icmpv4_type', 'icmp_type'], ['icmpv4_code', 'icmp_code'], ['icmpv6_type', 'icmp_type'], ['icmpv6_code', 'icmp_code'],
  ['ipv6_nd_target', 'nd_target'], ['ipv6_nd_sll', 'nd_sll'], ['ipv6_nd_tll', 'nd_tll'],
  ['mpls_label', 'mpls_label'], ['mpls_tc', 'mpls_tc'], ['mpls_ttl', 'mpls_ttl'], ['mpls_bos', 'mpls_bos'],
  ['pbb_isid', 'pbb_isid'], ['ipv6_exthdr', 'ipv6_exthdr'],
];
/** The fragment bits as Open vSwitch names them (FRAG_ANY, FRAG_ANY | FRAG_LATER). */
const FRAG_NAMES: Record<number, string> = { 0: 'no', 1: 'first', 3: 'later' };
/** Fields whose values read best in hex. */
const HEX_FIELDS = new Set<string>(['tunnel_id', 'metadata', 'eth_type', 'ipv6_flabel', 'ipv6_exthdr', 'pbb_isid']);

const SLOT = Object.fromEntries(FIELD_SLOTS.map((s) => [s.name, s])) as Record<OxmFieldName, FieldSlot>;
const ETH_TYPE = fieldSlot('eth_type');
const IP_PROTO = fieldSlot('ip_proto');
const VLAN_VID = fieldSlot('vlan_vid');
const ICMPV6_TYPE = fieldSlot('icmpv6_type');
/** The meaningful bits of every byte of the layout (a datapath mask may cover whole bytes). */
const VALID_BITS = (() => {
  const bits = new Uint8Array(FLOW_KEY_BYTES).fill(0xff);
  for (const slot of FIELD_SLOTS) bits.set(slot.fullMask, slot.offset);
  return bits;
})();

const PORT_NAMES = new Map<number, string>([
  [OFPP_IN_PORT, 'IN_PORT'], [OFPP_TABLE, 'TABLE'], [OFPP_NORMAL, 'NORMAL'], [OFPP_FLOOD, 'FLOOD'], [OFPP_ALL, 'ALL'],
  [OFPP_CONTROLLER, 'CONTROLLER'], [OFPP_LOCAL, 'LOCAL'], [OFPP_ANY, 'ANY'],
]);

/** An OpenFlow port number as ovs-ofctl writes it: the number, or the reserved port's name. */
export function formatPort(port: number): string {
  return PORT_NAMES.get(port) ?? String(port);
}

function hex(value: number | bigint, digits = 0): string {
  return `0x${value.toString(16).padStart(digits, '0')}`;
}

function isZero(bytes: Uint8Array, slot: FieldSlot): boolean {
  for (let i = 0; i < slot.bytes; i++) if (bytes[slot.offset + i] !== 0) return false;
  return true;
}

function isFull(mask: Uint8Array, slot: FieldSlot): boolean {
  for (let i = 0; i < slot.bytes; i++) if (mask[slot.offset + i] !== slot.fullMask[i]) return false;
  return true;
}

function numberAt(bytes: Uint8Array, slot: FieldSlot): number {
  let n = 0;
  for (let i = 0; i < slot.bytes; i++) n = n * 256 + bytes[slot.offset + i]!;
  return n;
}

/** Leading one bits of a mask, or -1 when the mask is not a prefix. */
function prefixLength(mask: Uint8Array, offset: number, bytes: number): number {
  let bits = 0;
  let ended = false;
  for (let i = 0; i < bytes; i++) {
    for (let b = 7; b >= 0; b--) {
      const set = (mask[offset + i]! >> b) & 1;
      if (set && ended) return -1;
      if (set) bits++;
      else ended = true;
    }
  }
  return bits;
}

/** A field's value text, exact or `value/mask`. */
function fieldText(name: OxmFieldName, value: Uint8Array, mask: Uint8Array): string {
  const slot = SLOT[name];
  const exact = isFull(mask, slot);
  const kind = oxmFieldSpec(name).kind;
  const v = oxmValueFromBytes(name, value, slot.offset);
  if (kind === 'mac' || kind === 'ipv4' || kind === 'ipv6') {
    if (exact) return String(v);
    const prefix = kind === 'mac' ? -1 : prefixLength(mask, slot.offset, slot.bytes);
    return `${String(v)}/${prefix >= 0 ? prefix : String(oxmValueFromBytes(name, mask, slot.offset))}`;
  }
  if (name === 'in_port' || name === 'in_phy_port') return exact ? formatPort(Number(v)) : `${hex(v as number)}/${hex(numberAt(mask, slot))}`;
  if (name === 'ip_dscp' && exact) return String((v as number) << 2);
  const m = oxmValueFromBytes(name, mask, slot.offset) as number | bigint;
  if (exact) return HEX_FIELDS.has(name) ? hex(v as number | bigint, name === 'eth_type' ? 4 : 0) : String(v);
  return `${hex(v as number | bigint)}/${hex(m)}`;
}

/** The VLAN part of a match: `dl_vlan=10`, or `vlan_tci=...` for "no tag" and partial masks. */
function vlanPairs(value: Uint8Array, mask: Uint8Array, wholeFlow: boolean): MatchPair[] {
  const v = numberAt(value, VLAN_VID);
  const m = numberAt(mask, VLAN_VID);
  if (m === 0x1fff) {
    if (v & 0x1000) return [['dl_vlan', String(v & 0xfff)]];
    return [['vlan_tci', wholeFlow ? '0x0000' : '0x0000/0x1fff']];
  }
  if (m === 0x1000) return [['vlan_tci', `${hex(v & 0x1000, 4)}/0x1000`]];
  return [['vlan_vid', `${hex(v)}/${hex(m)}`]];
}

/** What a match establishes about the packets it matches: the fields it fixes that prerequisites depend on. */
function knownState(value: Uint8Array, mask: Uint8Array): Partial<PrereqState> {
  const vlanBit = (numberAt(mask, VLAN_VID) & 0x1000) !== 0;
  return {
    ethType: isFull(mask, ETH_TYPE) ? numberAt(value, ETH_TYPE) : undefined,
    ipProto: isFull(mask, IP_PROTO) ? numberAt(value, IP_PROTO) : undefined,
    icmpv6Type: isFull(mask, ICMPV6_TYPE) ? numberAt(value, ICMPV6_TYPE) : undefined,
    vlanPresent: vlanBit ? (numberAt(value, VLAN_VID) & 0x1000) !== 0 : undefined,
    inPort: true,
  };
}

const UNKNOWN_CANDIDATES = {
  ethType: [0x0800, 0x86dd, 0x0806, 0x8035, 0x8847, 0x8848, 0x88e7],
  ipProto: [1, 6, 17, 58, 132],
  icmpv6Type: [135, 136],
  vlanPresent: [true],
};

/**
 * Whether the field's prerequisites hold for every packet the match matches ('yes'), for none
 * ('no': the field is absent, so zero, in all of them), or for some ('maybe').
 */
function prerequisite(name: OxmFieldName, known: Partial<PrereqState>): 'yes' | 'no' | 'maybe' {
  const prereq = oxmFieldSpec(name).prereq;
  if (!prereq) return 'yes';
  const unknown = (Object.keys(UNKNOWN_CANDIDATES) as Array<keyof typeof UNKNOWN_CANDIDATES>).filter((f) => known[f] === undefined);
  let sawTrue = false;
  let sawFalse = false;
  // Every combination of the unknown fields, each either one of its candidates or "something else"
  // (undefined; false for vlanPresent); stops as soon as both answers have been seen.
  const visit = (state: PrereqState, index: number): boolean => {
    if (index === unknown.length) {
      if (prereq(state)) sawTrue = true;
      else sawFalse = true;
      return sawTrue && sawFalse;
    }
    const field = unknown[index]!;
    const other = field === 'vlanPresent' ? false : undefined;
    for (const value of [other, ...UNKNOWN_CANDIDATES[field]]) {
      if (visit({ ...state, [field]: value }, index + 1)) return true;
    }
    return false;
  };
  visit({ ethType: undefined, ipProto: undefined, icmpv6Type: undefined, vlanPresent: false, inPort: true, ...known } as PrereqState, 0);
  return sawTrue && sawFalse ? 'maybe' : sawTrue ? 'yes' : 'no';
}

function matchPairsOf(value: Uint8Array, mask: Uint8Array, wholeFlow: boolean): MatchPair[] {
  const pairs: MatchPair[] = [];
  const skip = new Set<string>();
  const known = knownState(value, mask);
  if (isFull(mask, ETH_TYPE)) {
    const shorthand = SHORTHANDS[numberAt(value, ETH_TYPE)];
    if (shorthand) {
      skip.add('eth_type');
      const protocol = isFull(mask, IP_PROTO) ? shorthand.protocols[numberAt(value, IP_PROTO)] : undefined;
      if (protocol) skip.add('ip_proto');
      pairs.push([protocol ?? shorthand.name, undefined]);
    }
  }
  for (const [field, name] of MATCH_ORDER) {
    if (skip.has(field)) continue;
    if (field === 'nw_ttl' || field === 'mpls_ttl') {
      const offset = field === 'nw_ttl' ? NW_TTL_OFFSET : MPLS_TTL_OFFSET;
      if (mask[offset] === 0xff) pairs.push([name, String(value[offset])]);
      else if (mask[offset]) pairs.push([name, `${hex(value[offset]!)}/${hex(mask[offset]!)}`]);
      continue;
    }
    if (field === 'nw_frag') {
      if (mask[NW_FRAG_OFFSET]) pairs.push([name, FRAG_NAMES[value[NW_FRAG_OFFSET]! & 3] ?? 'later']);
      continue;
    }
    if (isZero(mask, SLOT[field])) continue;
    // A field the matched packets cannot have is zero in all of them: matching it adds nothing
    // (a megaflow's mask covers every subtable looked at, whatever the protocol).
    const prereq = prerequisite(field, known);
    if (prereq === 'no' && isZero(value, SLOT[field])) continue;
    if (field === 'vlan_vid') pairs.push(...vlanPairs(value, mask, wholeFlow));
    // ovs-ofctl's generic names (tp_dst, icmp_type) only where the protocol says which field is meant.
    else pairs.push([prereq === 'yes' ? name : field, fieldText(field, value, mask)]);
  }
  return pairs;
}

/** A match's fields, ovs-ofctl style. `value` need not be masked already. */
export function matchPairs(value: Uint8Array, mask: Uint8Array): MatchPair[] {
  const clipped = new Uint8Array(FLOW_KEY_BYTES);
  const masked = new Uint8Array(FLOW_KEY_BYTES);
  for (let i = 0; i < FLOW_KEY_BYTES; i++) {
    clipped[i] = mask[i]! & VALID_BITS[i]!;
    masked[i] = value[i]! & clipped[i]!;
  }
  return matchPairsOf(masked, clipped, false);
}

export function pairsText(pairs: MatchPair[]): string {
  return pairs.map(([name, value]) => (value === undefined ? name : `${name}=${value}`)).join(',');
}

/** A match as ovs-ofctl prints it; empty for the match-everything. */
export function formatMatch(value: Uint8Array, mask: Uint8Array): string {
  return pairsText(matchPairs(value, mask));
}

/** Which fields a packet with this flow key has: those whose OpenFlow prerequisites its headers meet. */
export function flowMask(key: Uint8Array): Uint8Array {
  const mask = new Uint8Array(FLOW_KEY_BYTES);
  const ethType = numberAt(key, ETH_TYPE);
  const isIp = ethType === ETH_TYPE_IP || ethType === ETH_TYPE_IPV6;
  // A later fragment has no transport header: no ports or ICMP fields, as Open vSwitch prints it.
  const hasTransport = isIp && (key[NW_FRAG_OFFSET]! & FRAG_LATER) === 0;
  const state: PrereqState = {
    ethType, ipProto: hasTransport ? numberAt(key, IP_PROTO) : undefined, icmpv6Type: numberAt(key, ICMPV6_TYPE),
    vlanPresent: (numberAt(key, VLAN_VID) & 0x1000) !== 0, inPort: true,
  };
  for (const slot of FIELD_SLOTS) {
    const spec = oxmFieldSpec(slot.name);
    // Pipeline fields and rarely set ones only when set; in_phy_port always equals in_port here.
    if (slot.name === 'in_phy_port') continue;
    if ((slot.name === 'metadata' || slot.name === 'tunnel_id' || slot.name === 'ipv6_exthdr') && isZero(key, slot)) continue;
    if (spec.prereq && !spec.prereq(state)) continue;
    mask.set(slot.fullMask, slot.offset);
  }
  if (isIp) {
    mask[NW_TTL_OFFSET] = 0xff;
    mask[NW_FRAG_OFFSET] = 0xff;
  }
  if (ethType === 0x8847 || ethType === 0x8848) mask[MPLS_TTL_OFFSET] = 0xff;
  return mask;
}

/** Every field of a packet's flow key (Open vSwitch's `Flow:` line). */
export function flowPairs(key: Uint8Array): MatchPair[] {
  const mask = flowMask(key);
  const masked = new Uint8Array(FLOW_KEY_BYTES);
  for (let i = 0; i < FLOW_KEY_BYTES; i++) masked[i] = key[i]! & mask[i]!;
  return matchPairsOf(masked, mask, true);
}

export function formatFlow(key: Uint8Array): string {
  return pairsText(flowPairs(key));
}

// ---- OpenFlow actions and instructions ----

/** ovs-ofctl's names for set_field destinations where they differ from the OXM names. */
const SET_FIELD_NAMES: Partial<Record<OxmFieldName, string>> = {
  ipv4_src: 'ip_src', ipv4_dst: 'ip_dst', ip_proto: 'nw_proto', ip_ecn: 'nw_ecn', ipv6_flabel: 'ipv6_label',
  icmpv4_type: 'icmp_type', icmpv4_code: 'icmp_code', ipv6_nd_target: 'nd_target', ipv6_nd_sll: 'nd_sll',
  ipv6_nd_tll: 'nd_tll', tunnel_id: 'tun_id',
};

function valueText(field: string, value: unknown): string {
  if (typeof value === 'bigint') return hex(value);
  if (typeof value === 'number' && HEX_FIELDS.has(field)) return hex(value, field === 'eth_type' ? 4 : 0);
  return String(value);
}

export function formatAction(a: Action): string {
  switch (a.type) {
    case 'output':
      if (a.port === OFPP_CONTROLLER) return `CONTROLLER:${a.maxLen}`;
      return PORT_NAMES.has(a.port) ? formatPort(a.port) : `output:${a.port}`;
    case 'group': return `group:${a.groupId}`;
    case 'set_field': {
      if (a.field.field === 'opaque') return `set_field:<opaque oxm ${hex(a.field.header, 8)}>`;
      const name = SET_FIELD_NAMES[a.field.field] ?? a.field.field;
      const value = valueText(a.field.field, a.field.value);
      return `set_field:${a.field.mask === undefined ? value : `${value}/${valueText(a.field.field, a.field.mask)}`}->${name}`;
    }
    case 'push_vlan': case 'push_mpls': case 'push_pbb': return `${a.type}:${hex(a.ethertype, 4)}`;
    case 'pop_mpls': return `pop_mpls:${hex(a.ethertype, 4)}`;
    case 'pop_vlan': case 'pop_pbb': case 'copy_ttl_in': case 'copy_ttl_out': case 'dec_mpls_ttl': return a.type;
    case 'dec_nw_ttl': return 'dec_ttl';
    case 'set_mpls_ttl': return `set_mpls_ttl(${a.ttl})`;
    case 'set_nw_ttl': return `mod_nw_ttl:${a.ttl}`;
    case 'set_queue': return `set_queue:${a.queueId}`;
    case 'experimenter': return `experimenter(${hex(a.experimenter, 8)})`;
    default: return (a as { type: string }).type;
  }
}

export function formatActions(actions: readonly Action[]): string {
  return actions.length ? actions.map(formatAction).join(',') : 'drop';
}

export function formatInstruction(i: Instruction): string {
  switch (i.type) {
    case 'goto_table': return `goto_table:${i.tableId}`;
    case 'meter': return `meter:${i.meterId}`;
    case 'apply_actions': return i.actions.map(formatAction).join(',');
    case 'write_actions': return `write_actions(${i.actions.map(formatAction).join(',')})`;
    case 'clear_actions': return 'clear_actions';
    case 'write_metadata': return `write_metadata:${hex(i.metadata)}${i.metadataMask === 0xffffffffffffffffn ? '' : `/${hex(i.metadataMask)}`}`;
    case 'experimenter': return `experimenter(${hex(i.experimenter, 8)})`;
    default: return (i as { type: string }).type;
  }
}

// ---- datapath actions ----

/** Datapath key groups for set(...), after Open vSwitch's ODP attribute names. */
const DP_SET: Partial<Record<OxmFieldName, [string, string]>> = {
  eth_src: ['eth', 'src'], eth_dst: ['eth', 'dst'], eth_type: ['eth', 'type'], vlan_vid: ['vlan', 'vid'], vlan_pcp: ['vlan', 'pcp'],
  ipv4_src: ['ipv4', 'src'], ipv4_dst: ['ipv4', 'dst'], ip_dscp: ['ip', 'dscp'], ip_ecn: ['ip', 'ecn'], ip_proto: ['ip', 'proto'],
  ipv6_src: ['ipv6', 'src'], ipv6_dst: ['ipv6', 'dst'], ipv6_flabel: ['ipv6', 'label'],
  tcp_src: ['tcp', 'src'], tcp_dst: ['tcp', 'dst'], udp_src: ['udp', 'src'], udp_dst: ['udp', 'dst'],
  sctp_src: ['sctp', 'src'], sctp_dst: ['sctp', 'dst'], icmpv4_type: ['icmp', 'type'], icmpv4_code: ['icmp', 'code'],
  icmpv6_type: ['icmpv6', 'type'], icmpv6_code: ['icmpv6', 'code'],
  arp_op: ['arp', 'op'], arp_spa: ['arp', 'sip'], arp_tpa: ['arp', 'tip'], arp_sha: ['arp', 'sha'], arp_tha: ['arp', 'tha'],
  ipv6_nd_target: ['nd', 'target'], ipv6_nd_sll: ['nd', 'sll'], ipv6_nd_tll: ['nd', 'tll'],
  mpls_label: ['mpls', 'label'], mpls_tc: ['mpls', 'tc'], mpls_bos: ['mpls', 'bos'], pbb_isid: ['pbb', 'isid'],
  tunnel_id: ['tunnel', 'tun_id'], metadata: ['metadata', 'value'],
};

const PACKET_IN_REASONS: Record<number, string> = { [OFPR_NO_MATCH]: 'no_match', [OFPR_ACTION]: 'action', [OFPR_INVALID_TTL]: 'invalid_ttl' };

function formatDpAction(a: DpAction): string[] {
  switch (a.type) {
    case 'output': return [a.port === OFPP_LOCAL ? 'LOCAL' : String(a.port)];
    case 'set_field': {
      let value = oxmValueFromBytes(a.field, a.value, 0);
      if (a.field === 'vlan_vid') value = Number(value) & 0xfff;
      const [group, key] = DP_SET[a.field] ?? [a.field, 'value'];
      return [`set(${group}(${key}=${valueText(a.field, value)}))`];
    }
    case 'push_vlan': return [`push_vlan(tpid=${hex(a.ethertype, 4)})`];
    case 'push_mpls': case 'pop_mpls': case 'push_pbb': return [`${a.type}(eth_type=${hex(a.ethertype, 4)})`];
    case 'dec_nw_ttl': return ['dec_ttl'];
    case 'set_nw_ttl': return [`set(ip(ttl=${a.ttl}))`];
    case 'set_mpls_ttl': return [`set(mpls(ttl=${a.ttl}))`];
    case 'pop_vlan': case 'pop_pbb': case 'dec_mpls_ttl': case 'copy_ttl_in': case 'copy_ttl_out': return [a.type];
    case 'controller': {
      const p = a.packetIn;
      const reason = PACKET_IN_REASONS[p.reason] ?? String(p.reason);
      return [`userspace(controller(reason=${reason},table=${p.tableId},cookie=${hex(p.cookie)},max_len=${p.maxLen}))`];
    }
    case 'meter': return [`meter(${a.meterId})`];
    case 'learn': return [];
    case 'clone': {
      // A copy that is only sent somewhere is the same as sending the packet itself.
      const inner = a.actions.flatMap(formatDpAction);
      if (a.actions.every((x) => x.type === 'output' || x.type === 'controller' || x.type === 'learn')) return inner;
      return [`clone(${inner.join(',') || 'drop'})`];
    }
    default: return [(a as { type: string }).type];
  }
}

/** Datapath actions as Open vSwitch lists them: comma-separated, `drop` for none. NORMAL's learning is not shown. */
export function formatDpActions(actions: readonly DpAction[]): string {
  const parts = actions.flatMap(formatDpAction);
  return parts.length ? parts.join(',') : 'drop';
}
