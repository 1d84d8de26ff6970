/*
 * Translation (Open vSwitch's ofproto-dpif-xlate): runs one packet through the OpenFlow 1.3
 * pipeline of a bridge and reduces what happens to it to datapath actions, plus
 *  - the mask of flow-key fields the outcome depends on (the megaflow's wildcards): the masks
 *    of every classifier subtable looked at, in_port always, and what actions read (the TTL
 *    for dec_ttl, the hashed fields for a select group, the addresses for NORMAL);
 *  - whether the result may be cached at all: after a push or pop, later lookups see headers
 *    the original key does not describe, so such translations are run for every packet;
 *  - the counters to credit for every packet that follows it (rules, tables, groups);
 *  - the region of keys each table lookup covered for the megaflow's packets (LookupRegion),
 *    so that a rule change invalidates only the megaflows it can affect.
 *
 * The pipeline: table 0 first; in each table the highest-priority matching rule's
 * instructions run in the specification's order (meter, apply-actions, clear-actions,
 * write-actions, write-metadata, goto-table); without goto the action set runs in the
 * specification's order (copy TTL in, pop, push-MPLS, push-PBB, push-VLAN, copy TTL out,
 * decrement TTL, set, qos, group, output — output ignored when there is a group). A packet
 * that matches no rule is dropped (OpenFlow 1.3 table-miss); output to CONTROLLER from a
 * table-miss rule (priority 0, empty match) is reported as OFPR_NO_MATCH.
 */
import {
  type Action, type Instruction, OFPP_ALL, OFPP_ANY, OFPP_CONTROLLER, OFPP_FLOOD, OFPP_IN_PORT, OFPP_NORMAL,
  OFPP_TABLE, OFPPC_NO_FWD, OFPPC_NO_PACKET_IN, OFPPC_PORT_DOWN, OFPPS_LINK_DOWN, OFPR_ACTION, OFPR_INVALID_TTL,
  OFPR_NO_MATCH, OFPVID_PRESENT, OFPC_FRAG_DROP, OFPC_FRAG_NORMAL, OFPGT_ALL, OFPGT_FF, OFPGT_INDIRECT, OFPGT_SELECT, oxmValueBytes, formatMac,
} from '../../protocol/index.ts';
import type { DpAction } from '../datapath/actions.ts';
import { applyHeaderAction, HEADER_ACTIONS, POP_ACTIONS } from '../datapath/execute.ts';
import {
  ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_VLAN_8021Q, type FieldSlot, fieldSlot, FLOW_KEY_BYTES, FRAG_ANY, MPLS_TTL_OFFSET, NW_FRAG_OFFSET, NW_TTL_OFFSET,
  type Packet, parsePacket, VLAN_COUNT_OFFSET,
} from '../packet/index.ts';
import type { Group } from './group-table.ts';
import type { MacAddress, MacLearning } from './mac-learning.ts';
import type { OfPort } from './port.ts';
import type { OfTable, Rule } from './rule.ts';
import { pickSelectBucket } from './select-group.ts';

/** Tables, groups, ports and the MAC table a translation reads. */
export interface XlateBridge {
  readonly tables: OfTable[];
  readonly groups: ReadonlyMap<number, Group>;
  readonly ports: ReadonlyMap<number, OfPort>;
  readonly macLearning: MacLearning;
  /**
   * IP fragment handling (OFPC_FRAG_*, as Open vSwitch's table lookups do it): NORMAL shows
   * the tables no transport ports, ICMP type or code for any fragment (the first one has them,
   * the others do not: all look alike; actions and hashes still see them); DROP ends the
   * pipeline at a fragment's first table lookup; 3 (OVS's nx-match) shows the first
   * fragment's.
   */
  readonly fragHandling: number;
}

/** What every packet of a translation credits: rules hit, tables looked at and matched, group buckets. */
export interface Credits {
  rules: Rule[];
  lookups: OfTable[];
  matches: OfTable[];
  /** Each group run, once per packet whatever the number of its buckets that ran. */
  groups: Group[];
  buckets: Array<{ group: Group; bucket: number }>;
  /** For a cacheable translation: what each lookup saw, over all the megaflow's packets. */
  regions: LookupRegion[];
  /** The learned addresses NORMAL looked up (a change of their port makes this stale). */
  macLookups: MacAddress[];
}

/**
 * The keys a table lookup saw for the packets of one megaflow: where the actions before the
 * lookup changed a byte, every such packet had the value the translation saw (a set-field
 * writes a constant; pushes, pops and TTL actions read only masked fields); elsewhere the
 * megaflow's own value and mask. A rule that does not overlap it cannot change the lookup.
 */
export interface LookupRegion {
  tableId: number;
  value: Uint8Array;
  mask: Uint8Array;
}

export interface Translation {
  actions: DpAction[];
  mask: Uint8Array;
  cacheable: boolean;
  credits: Credits;
}

export interface XlateInput {
  frame: Buffer;
  inPort: number;
  /** Pipeline metadata and tunnel id the packet enters with (0 for received packets). */
  metadata?: bigint;
  tunnelId?: bigint;
  /** A packet-out's action list: translated instead of starting at table 0 (OFPP_TABLE then runs the tables). */
  packetOutActions?: Action[];
}

/** Deepest chain of group buckets, resubmits through OFPP_TABLE, and NORMAL floods. */
const MAX_DEPTH = 64;
/** The order in which a rule's instructions run, whatever order they were given in. */
export const INSTRUCTION_ORDER: Record<Instruction['type'], number> = {
  meter: 0, apply_actions: 1, clear_actions: 2, write_actions: 3, write_metadata: 4, goto_table: 5, experimenter: 6,
};
/** The action set's execution order (OpenFlow 1.3 section 5.10). */
export const ACTION_SET_ORDER: Array<Action['type']> = [
  'copy_ttl_in', 'pop_vlan', 'pop_mpls', 'pop_pbb', 'push_mpls', 'push_pbb', 'push_vlan', 'copy_ttl_out',
  'dec_mpls_ttl', 'dec_nw_ttl', 'set_mpls_ttl', 'set_nw_ttl', 'set_field', 'set_queue', 'group', 'output',
];

/** What a fragment hides from the tables in OFPC_FRAG_NORMAL (Open vSwitch's tp_src, tp_dst). */
const FRAGMENT_HIDDEN = ([
  'tcp_src', 'tcp_dst', 'udp_src', 'udp_dst', 'sctp_src', 'sctp_dst', 'icmpv4_type', 'icmpv4_code', 'icmpv6_type', 'icmpv6_code',
] as const).map((name) => fieldSlot(name));
const ETH_TYPE = fieldSlot('eth_type');
const ETH_SRC = fieldSlot('eth_src');
const ETH_DST = fieldSlot('eth_dst');
const VLAN_VID = fieldSlot('vlan_vid');
const IN_PORT = fieldSlot('in_port');
const METADATA = fieldSlot('metadata');
const TUNNEL_ID = fieldSlot('tunnel_id');

/**
 * What each push copies into the header it adds (the outer tag's VID and PCP; the top label
 * stack entry, or the IP TTL; the I-SID), and what tells which of those exist. After a push the
 * flow key is a function of these fields of the original key and of the action's constants;
 * every other field stays where and what it was.
 */
const PUSH_SOURCES: Record<string, FieldSlot[]> = {
  push_vlan: [fieldSlot('vlan_vid'), fieldSlot('vlan_pcp')],
  push_mpls: (['eth_type', 'mpls_label', 'mpls_tc', 'mpls_bos'] as const).map((name) => fieldSlot(name)),
  push_pbb: (['eth_type', 'pbb_isid', 'vlan_vid', 'vlan_pcp'] as const).map((name) => fieldSlot(name)),
};

function unwildcard(mask: Uint8Array, offset: number, bytes: number): void {
  for (let i = 0; i < bytes; i++) mask[offset + i] = 0xff;
}

function isTableMiss(rule: Rule): boolean {
  return rule.priority === 0 && rule.mask.every((b) => b === 0);
}

function isReservedMulticast(key: Uint8Array, at: number): boolean {
  return key[at] === 0x01 && key[at + 1] === 0x80 && key[at + 2] === 0xc2 && key[at + 3] === 0 && key[at + 4] === 0 && (key[at + 5]! & 0xf0) === 0;
}

function portIsLive(port: OfPort | undefined): boolean {
  return !!port && !(port.config & OFPPC_PORT_DOWN) && !(port.state & OFPPS_LINK_DOWN);
}

/** One translation in progress: the packet as the actions so far have changed it. */
class Xlator {
  readonly mask = new Uint8Array(FLOW_KEY_BYTES);
  readonly credits: Credits = { rules: [], lookups: [], matches: [], groups: [], buckets: [], regions: [], macLookups: [] };
  /** The key as each table lookup saw it (see LookupRegion). */
  readonly lookupKeys: Array<{ tableId: number; key: Uint8Array }> = [];
  cacheable = true;
  /** A pop may have uncovered fields the original key did not hold (see POP_ACTIONS). */
  private headersRevealed = false;
  private packet: Packet;
  private key = new Uint8Array(FLOW_KEY_BYTES);
  private metadata: bigint;
  private tunnelId: bigint;
  private actionSet = new Map<string, Action>();
  private rule: Rule | undefined;
  private tableId = 0;
  private depth = 0;

  constructor(private readonly bridge: XlateBridge, readonly input: XlateInput, private out: DpAction[]) {
    const data = Buffer.from(input.frame);
    this.packet = { data, layout: parsePacket(data, this.key, input.inPort) };
    this.metadata = input.metadata ?? 0n;
    this.tunnelId = input.tunnelId ?? 0n;
    this.writePipelineFields();
    unwildcard(this.mask, IN_PORT.offset, IN_PORT.bytes);
    // Whether an IP packet is a fragment decides what the tables see (fragHandling): every IP
    // megaflow holds it, as in Open vSwitch.
    const ethType = (this.key[ETH_TYPE.offset]! << 8) | this.key[ETH_TYPE.offset + 1]!;
    if (ethType === ETH_TYPE_IP || ethType === ETH_TYPE_IPV6) this.mask[NW_FRAG_OFFSET] |= FRAG_ANY;
  }

  /** The key of the packet as it entered, for the megaflow. */
  originalKey(): Uint8Array {
    const key = new Uint8Array(FLOW_KEY_BYTES);
    parsePacket(this.input.frame, key, this.input.inPort);
    key.set(oxmValueBytes('metadata', this.input.metadata ?? 0n), METADATA.offset);
    key.set(oxmValueBytes('tunnel_id', this.input.tunnelId ?? 0n), TUNNEL_ID.offset);
    return key;
  }

  private writePipelineFields(): void {
    this.key.set(oxmValueBytes('metadata', this.metadata), METADATA.offset);
    this.key.set(oxmValueBytes('tunnel_id', this.tunnelId), TUNNEL_ID.offset);
  }

  private reparse(): void {
    this.packet.layout = parsePacket(this.packet.data, this.key, this.input.inPort);
    this.writePipelineFields();
  }

  /** The key a table lookup sees (fragment handling above); undefined: the packet is dropped. */
  private lookupKey(): Uint8Array | undefined {
    if (!(this.key[NW_FRAG_OFFSET]! & FRAG_ANY)) return this.key;
    if (this.bridge.fragHandling === OFPC_FRAG_DROP) return undefined;
    if (this.bridge.fragHandling !== OFPC_FRAG_NORMAL) return this.key;
    const key = new Uint8Array(this.key);
    for (const slot of FRAGMENT_HIDDEN) key.fill(0, slot.offset, slot.offset + slot.bytes);
    return key;
  }

  run(): void {
    if (this.input.packetOutActions) this.doActions(this.input.packetOutActions, true);
    else this.processTable(0);
  }

  private processTable(tableId: number): void {
    const table = this.bridge.tables[tableId];
    if (!table) return;
    if (this.headersRevealed) this.cacheable = false;
    this.tableId = tableId;
    const key = this.lookupKey();
    if (!key) return;
    this.credits.lookups.push(table);
    this.lookupKeys.push({ tableId, key: new Uint8Array(key) });
    const rule = table.rules.lookup(key, this.mask);
    if (!rule) return;
    this.credits.matches.push(table);
    this.credits.rules.push(rule);
    this.rule = rule;
    let next: number | undefined;
    const instructions = [...rule.instructions].sort((a, b) => INSTRUCTION_ORDER[a.type] - INSTRUCTION_ORDER[b.type]);
    for (const ins of instructions) {
      switch (ins.type) {
        case 'meter':
          this.out.push({ type: 'meter', meterId: ins.meterId });
          break;
        case 'apply_actions':
          if (!this.doActions(ins.actions, false)) return;
          break;
        case 'clear_actions':
          this.actionSet.clear();
          break;
        case 'write_actions':
          for (const a of ins.actions) this.actionSet.set(a.type === 'set_field' && a.field.field !== 'opaque' ? `set_field:${a.field.field}` : a.type, a);
          break;
        case 'write_metadata':
          this.metadata = (this.metadata & ~ins.metadataMask) | (ins.metadata & ins.metadataMask);
          this.writePipelineFields();
          break;
        case 'goto_table':
          next = ins.tableId;
          break;
        default:
          break;
      }
    }
    if (next !== undefined) this.processTable(next);
    else this.executeActionSet();
  }

  private executeActionSet(): void {
    const set = [...this.actionSet.values()];
    this.actionSet = new Map();
    const hasGroup = set.some((a) => a.type === 'group');
    const ordered = set
      .filter((a) => !(hasGroup && a.type === 'output'))
      .sort((a, b) => ACTION_SET_ORDER.indexOf(a.type) - ACTION_SET_ORDER.indexOf(b.type));
    this.doActions(ordered, false);
  }

  /** Runs an action list; returns false when the packet is gone (TTL expired). */
  private doActions(actions: Action[], inPacketOut: boolean): boolean {
    for (const a of actions) {
      switch (a.type) {
        case 'output':
          this.output(a.port, a.maxLen, inPacketOut);
          break;
        case 'group':
          this.group(a.groupId);
          break;
        case 'set_queue': case 'experimenter':
          break;
        case 'dec_nw_ttl': case 'dec_mpls_ttl': {
          const offset = a.type === 'dec_nw_ttl' ? NW_TTL_OFFSET : MPLS_TTL_OFFSET;
          this.mask[offset] = 0xff;
          if (this.key[offset]! <= 1) {
            // An expiring TTL goes to the controller instead (OFPR_INVALID_TTL), and no further.
            this.toController(OFPR_INVALID_TTL, 0xffff);
            return false;
          }
          this.header({ type: a.type });
          break;
        }
        case 'set_field':
          if (a.field.field === 'opaque') break;
          // metadata and tunnel_id live in the pipeline, not in the packet's headers.
          if (a.field.field === 'metadata' || a.field.field === 'tunnel_id') {
            if (a.field.field === 'metadata') this.metadata = a.field.value;
            else this.tunnelId = a.field.value;
            this.writePipelineFields();
            break;
          }
          if (a.field.field === 'vlan_vid' && this.untagged()) {
            // Open vSwitch writes the VID of an untagged frame into a new 802.1Q tag (PCP 0); a
            // PCP alone needs a tag there (vlan_pcp has a VLAN prerequisite, vlan_vid none). A
            // flow's match must have a VLAN, so this is for group buckets, packet-outs and a
            // tag popped before.
            this.header({ type: 'push_vlan', ethertype: ETH_TYPE_VLAN_8021Q });
          }
          this.header({ type: 'set_field', field: a.field.field, value: oxmValueBytes(a.field.field, a.field.value) });
          break;
        default:
          if (HEADER_ACTIONS.has(a.type)) this.header(a as DpAction);
      }
    }
    return true;
  }

  /** Whether the frame has no VLAN tag; the megaflow then depends on whether it has one. */
  private untagged(): boolean {
    this.mask[VLAN_VID.offset] |= OFPVID_PRESENT >> 8;
    return this.packet.layout.vlanCount === 0;
  }

  /** Applies a header rewrite to the working packet and emits it for the datapath. */
  private header(action: DpAction): void {
    // With its sources in the mask, later lookups can go on collecting the megaflow's mask over
    // the new key: a push keeps the translation cacheable.
    for (const slot of PUSH_SOURCES[action.type] ?? []) unwildcard(this.mask, slot.offset, slot.bytes);
    if (action.type === 'push_mpls' || action.type === 'copy_ttl_out' || action.type === 'copy_ttl_in') {
      this.mask[NW_TTL_OFFSET] = 0xff;
      this.mask[MPLS_TTL_OFFSET] = 0xff;
    }
    if (action.type === 'pop_vlan' && this.packet.layout.vlanCount <= 1) {
      // Popping the only tag (or none) uncovers nothing the key lacks; the megaflow holds the
      // tag count, so that a frame with more tags, whose inner tag would show, does not share it.
      this.mask[VLAN_COUNT_OFFSET] = 0xff;
    } else if (POP_ACTIONS.has(action.type)) {
      this.headersRevealed = true;
    }
    applyHeaderAction(this.packet, action);
    this.out.push(action);
    this.reparse();
  }

  private output(port: number, maxLen: number, inPacketOut: boolean): void {
    const inPort = this.input.inPort;
    switch (port) {
      case OFPP_IN_PORT:
        if (this.bridge.ports.has(inPort)) this.out.push({ type: 'output', port: inPort });
        return;
      case OFPP_ALL: case OFPP_FLOOD:
        this.flood(inPort);
        return;
      case OFPP_CONTROLLER:
        this.toController(this.rule && isTableMiss(this.rule) ? OFPR_NO_MATCH : OFPR_ACTION, maxLen);
        return;
      case OFPP_TABLE:
        // Only a packet-out may resubmit to the tables.
        if (inPacketOut && this.depth++ < MAX_DEPTH) this.processTable(0);
        return;
      case OFPP_NORMAL:
        this.normal(inPort);
        return;
      case OFPP_ANY:
        return;
      default:
        // Output to the input port must say OFPP_IN_PORT; to a missing, down or no-forward port, nothing.
        if (port === inPort) return;
        if (this.bridge.ports.get(port) && !(this.bridge.ports.get(port)!.config & (OFPPC_NO_FWD | OFPPC_PORT_DOWN))) {
          this.out.push({ type: 'output', port });
        }
    }
  }

  private flood(inPort: number): void {
    const ports = [...this.bridge.ports.values()].sort((a, b) => a.portNo - b.portNo);
    for (const p of ports) {
      if (p.portNo !== inPort && !(p.config & (OFPPC_NO_FWD | OFPPC_PORT_DOWN))) this.out.push({ type: 'output', port: p.portNo });
    }
  }

  private toController(reason: number, maxLen: number): void {
    const port = this.bridge.ports.get(this.input.inPort);
    if (port && port.config & OFPPC_NO_PACKET_IN) return;
    this.out.push({
      type: 'controller',
      packetIn: { reason, maxLen, tableId: this.tableId, cookie: this.rule?.cookie ?? 0n, metadata: this.metadata, tunnelId: this.tunnelId },
    });
  }

  /** NORMAL: a learning L2 switch over the bridge's ports (Open vSwitch's xlate_normal). */
  private normal(inPort: number): void {
    unwildcard(this.mask, ETH_SRC.offset, ETH_SRC.bytes);
    unwildcard(this.mask, ETH_DST.offset, ETH_DST.bytes);
    unwildcard(this.mask, VLAN_VID.offset, VLAN_VID.bytes);
    const src = formatMac(this.key, ETH_SRC.offset);
    const dst = formatMac(this.key, ETH_DST.offset);
    const vlan = ((this.key[VLAN_VID.offset]! << 8) | this.key[VLAN_VID.offset + 1]!) & 0xfff;
    const srcIsUnicast = (this.key[ETH_SRC.offset]! & 1) === 0;
    // Learning happens when the datapath runs the `learn` action, for this packet and every
    // later one of the megaflow: a translation only reads the table, so that an address that
    // moves is noticed (and the translations toward it dropped) wherever the packet is handled.
    if (srcIsUnicast && this.bridge.ports.has(inPort)) this.out.push({ type: 'learn', mac: src, vlan, port: inPort });
    // IEEE 802.1D reserved addresses (01:80:c2:00:00:00-0f: STP, LLDP, ...) are link-local:
    // NORMAL does not forward them (Open vSwitch's default forward-bpdu=false).
    if (isReservedMulticast(this.key, ETH_DST.offset)) return;
    const dstIsUnicast = (this.key[ETH_DST.offset]! & 1) === 0;
    if (dstIsUnicast) this.credits.macLookups.push({ mac: dst, vlan });
    const known = dstIsUnicast ? this.bridge.macLearning.lookup(dst, vlan) : undefined;
    if (known === undefined) this.flood(inPort);
    else if (known !== inPort) this.out.push({ type: 'output', port: known });
  }

  private bucketIsLive(group: Group, index: number, depth: number): boolean {
    const bucket = group.buckets[index]!;
    if (bucket.watchPort !== OFPP_ANY && !portIsLive(this.bridge.ports.get(bucket.watchPort))) return false;
    if (bucket.watchGroup !== 0xffffffff) {
      const watched = this.bridge.groups.get(bucket.watchGroup);
      if (!watched || depth > MAX_DEPTH || !watched.buckets.some((_, i) => this.bucketIsLive(watched, i, depth + 1))) return false;
    }
    return true;
  }

  private group(groupId: number): void {
    const group = this.bridge.groups.get(groupId);
    if (!group || this.depth >= MAX_DEPTH) return;
    this.depth++;
    const bucketsBefore = this.credits.buckets.length;
    switch (group.groupType) {
      case OFPGT_ALL:
        group.buckets.forEach((_, i) => this.bucket(group, i));
        break;
      case OFPGT_INDIRECT:
        if (group.buckets.length) this.bucket(group, 0);
        break;
      case OFPGT_FF: {
        const live = group.buckets.findIndex((_, i) => this.bucketIsLive(group, i, 0));
        if (live >= 0) this.bucket(group, live);
        break;
      }
      case OFPGT_SELECT: {
        const chosen = this.selectBucket(group);
        if (chosen >= 0) this.bucket(group, chosen);
        break;
      }
      default:
        break;
    }
    if (this.credits.buckets.length > bucketsBefore) this.credits.groups.push(group);
    this.depth--;
  }

  /** Open vSwitch's choice: by the flow's hash, weighted, among live buckets. */
  private selectBucket(group: Group): number {
    return pickSelectBucket(group.buckets, group.selectTable, this.key, this.mask, (i) => this.bucketIsLive(group, i, 0));
  }

  /** A bucket runs on a copy of the packet: what it changes does not leak out of the group. */
  private bucket(group: Group, index: number): void {
    this.credits.buckets.push({ group, bucket: index });
    const saved = { packet: this.packet, key: this.key, out: this.out, headersRevealed: this.headersRevealed };
    const data = Buffer.from(this.packet.data);
    this.key = new Uint8Array(this.key);
    this.packet = { data, layout: parsePacket(data, this.key, this.input.inPort) };
    this.writePipelineFields();
    const inner: DpAction[] = [];
    this.out = inner;
    this.doActions(group.buckets[index]!.actions, false);
    this.packet = saved.packet;
    this.key = saved.key;
    this.out = saved.out;
    this.headersRevealed = saved.headersRevealed;
    if (inner.length) this.out.push({ type: 'clone', actions: inner });
  }
}

/** Translates one packet through the bridge's pipeline. */
export function xlate(bridge: XlateBridge, input: XlateInput): Translation & { key: Uint8Array } {
  const actions: DpAction[] = [];
  const x = new Xlator(bridge, input, actions);
  x.run();
  const key = x.originalKey();
  if (x.cacheable) x.credits.regions = lookupRegions(x.lookupKeys, key, x.mask);
  return { actions, mask: x.mask, cacheable: x.cacheable, credits: x.credits, key };
}

function lookupRegions(lookups: Xlator['lookupKeys'], original: Uint8Array, mask: Uint8Array): LookupRegion[] {
  return lookups.map(({ tableId, key }) => {
    const value = new Uint8Array(FLOW_KEY_BYTES);
    const regionMask = new Uint8Array(FLOW_KEY_BYTES);
    for (let i = 0; i < FLOW_KEY_BYTES; i++) {
      const changed = key[i] !== original[i];
      regionMask[i] = changed ? 0xff : mask[i]!;
      value[i] = key[i]! & regionMask[i]!;
    }
    return { tableId, value, mask: regionMask };
  });
}

/** Whether some key lies in both (value, mask) regions. */
export function regionsOverlap(aValue: Uint8Array, aMask: Uint8Array, bValue: Uint8Array, bMask: Uint8Array): boolean {
  for (let i = 0; i < FLOW_KEY_BYTES; i++) if (((aValue[i]! ^ bValue[i]!) & aMask[i]! & bMask[i]!) !== 0) return false;
  return true;
}
