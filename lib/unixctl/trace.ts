/*
 * `ofproto/trace`: what the bridge's pipeline does with one packet, as Open vSwitch's
 * ofproto-dpif-trace prints it. The packet is translated exactly as an upcall would translate
 * it, but read-only (lib/ofproto/xlate-dry-run.ts): no counter moves, nothing is learned, no
 * megaflow is installed, nothing is sent.
 *
 * The translation says which tables were looked up and which rule matched in each, in order
 * (its credits), and which group buckets ran; this module walks those rules' instructions again
 * to show them step by step, following the packet's headers through the set-field and
 * push/pop actions so that NORMAL's decision and TTL expiry can be explained. What the
 * datapath would do comes from the translation itself: the final flow (its header rewrites
 * applied), the megaflow (the key under the mask of everything consulted) and the datapath
 * actions.
 */
import {
  type Action, formatMac, OFPP_NORMAL, oxmValueBytes,
} from '../../protocol/index.ts';
import { applyHeaderAction, type DpAction, HEADER_ACTIONS } from '../datapath/index.ts';
import type { Ofproto } from '../ofproto/index.ts';
import type { Group } from '../ofproto/group-table.ts';
import type { Rule } from '../ofproto/rule.ts';
import type { MacLearning } from '../ofproto/mac-learning.ts';
import { readOnlyXlateBridge } from '../ofproto/xlate-dry-run.ts';
import { ACTION_SET_ORDER, INSTRUCTION_ORDER, type Translation, xlate } from '../ofproto/xlate.ts';
import { fieldSlot, FLOW_KEY_BYTES, MPLS_TTL_OFFSET, NW_TTL_OFFSET, type Packet, parsePacket } from '../packet/index.ts';
import { formatAction, formatDpActions, formatFlow, formatInstruction, formatMatch, formatPort } from './flow-format.ts';
import type { TraceFlow } from './flow-parse.ts';

/** One action or instruction as the trace shows it, with what it led to. */
export interface TraceStep {
  action: string;
  /** Explanations (`no learned MAC for destination, flooding`). */
  notes?: string[];
  /** For a group: the buckets that ran, each with its actions. */
  buckets?: Array<{ bucket: number; steps: TraceStep[] }>;
}

export interface TraceTable {
  table: number;
  /** The rule that matched, or null for a table miss. */
  rule: { match: string; priority: number; cookie: string } | null;
  steps: TraceStep[];
}

export interface TraceReport {
  bridge: string;
  flow: string;
  tables: TraceTable[];
  /** The action set, when the pipeline ended on a rule and the set held actions. */
  actionSet: TraceStep[] | null;
  finalFlow: string;
  flowChanged: boolean;
  /** The megaflow the datapath would install, or null when the translation cannot be cached. */
  megaflow: string | null;
  datapathActions: string;
}

const ETH_DST = fieldSlot('eth_dst');
const VLAN_VID = fieldSlot('vlan_vid');

function hex(n: bigint): string {
  return `0x${n.toString(16)}`;
}

function actionSetKey(a: Action): string {
  return a.type === 'set_field' && a.field.field !== 'opaque' ? `set_field:${a.field.field}` : a.type;
}

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < FLOW_KEY_BYTES; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Re-walks the rules a translation hit, following the packet's headers. */
class TraceWalker {
  private packet: Packet;
  private key = new Uint8Array(FLOW_KEY_BYTES);
  private actionSet = new Map<string, Action>();
  private readonly buckets: Array<{ group: Group; bucket: number }>;
  /** The packet is gone (its TTL expired): the rest of the pipeline does not run. */
  private stopped = false;

  constructor(
    private readonly ofproto: Ofproto, private readonly macLearning: MacLearning, private readonly inPort: number, frame: Buffer,
    private readonly t: Translation,
  ) {
    const data = Buffer.from(frame);
    this.packet = { data, layout: parsePacket(data, this.key, inPort) };
    this.buckets = [...t.credits.buckets];
  }

  walk(): { tables: TraceTable[]; actionSet: TraceStep[] | null } {
    const { lookups, rules } = this.t.credits;
    const tables: TraceTable[] = [];
    for (let i = 0; i < lookups.length; i++) {
      const table = lookups[i]!;
      const rule = rules[i];
      if (!rule) {
        tables.push({ table: table.id, rule: null, steps: [{ action: 'drop' }] });
        return { tables, actionSet: null };
      }
      const { steps, goto } = this.rule(rule);
      tables.push({
        table: table.id, rule: { match: formatMatch(rule.value, rule.mask), priority: rule.priority, cookie: hex(rule.cookie) }, steps,
      });
      if (this.stopped) return { tables, actionSet: null };
      if (goto === undefined) break;
    }
    return { tables, actionSet: this.executeActionSet() };
  }

  private rule(rule: Rule): { steps: TraceStep[]; goto: number | undefined } {
    const steps: TraceStep[] = [];
    let goto: number | undefined;
    const instructions = [...rule.instructions].sort((a, b) => INSTRUCTION_ORDER[a.type] - INSTRUCTION_ORDER[b.type]);
    for (const ins of instructions) {
      switch (ins.type) {
        case 'apply_actions':
          for (const a of ins.actions) {
            steps.push(this.action(a));
            if (this.stopped) return { steps, goto: undefined };
          }
          break;
        case 'clear_actions':
          this.actionSet.clear();
          steps.push({ action: 'clear_actions' });
          break;
        case 'write_actions':
          for (const a of ins.actions) this.actionSet.set(actionSetKey(a), a);
          steps.push({ action: formatInstruction(ins), notes: [`action set is: ${[...this.actionSet.values()].map(formatAction).join(',')}`] });
          break;
        case 'goto_table':
          goto = ins.tableId;
          steps.push({ action: formatInstruction(ins) });
          break;
        default:
          steps.push({ action: formatInstruction(ins) });
      }
    }
    return { steps, goto };
  }

  private executeActionSet(): TraceStep[] | null {
    const set = [...this.actionSet.values()];
    if (!set.length) return null;
    const hasGroup = set.some((a) => a.type === 'group');
    const ordered = set
      .filter((a) => !(hasGroup && a.type === 'output'))
      .sort((a, b) => ACTION_SET_ORDER.indexOf(a.type) - ACTION_SET_ORDER.indexOf(b.type));
    const steps: TraceStep[] = [];
    for (const a of ordered) {
      steps.push(this.action(a));
      if (this.stopped) break;
    }
    return steps;
  }

  private reparse(): void {
    this.packet.layout = parsePacket(this.packet.data, this.key, this.inPort);
  }

  private action(a: Action): TraceStep {
    const step: TraceStep = { action: formatAction(a) };
    switch (a.type) {
      case 'output':
        if (a.port === OFPP_NORMAL) step.notes = [this.normal()];
        break;
      case 'group':
        this.group(a.groupId, step);
        break;
      case 'set_field':
        if (a.field.field === 'opaque') break;
        applyHeaderAction(this.packet, { type: 'set_field', field: a.field.field, value: oxmValueBytes(a.field.field, a.field.value) });
        this.reparse();
        break;
      case 'dec_nw_ttl': case 'dec_mpls_ttl':
        if (this.key[a.type === 'dec_nw_ttl' ? NW_TTL_OFFSET : MPLS_TTL_OFFSET]! <= 1) {
          step.notes = ['TTL expired: sent to the controllers (invalid_ttl), processing stops'];
          this.stopped = true;
          break;
        }
        applyHeaderAction(this.packet, a as DpAction);
        this.reparse();
        break;
      default:
        if (HEADER_ACTIONS.has(a.type)) {
          applyHeaderAction(this.packet, a as DpAction);
          this.reparse();
        }
    }
    return step;
  }

  /** What NORMAL does with the packet as it is now (xlate's normal(), read from the MAC table). */
  private normal(): string {
    const dstIsUnicast = (this.key[ETH_DST.offset]! & 1) === 0;
    if (!dstIsUnicast) return 'broadcast or multicast destination, flooding';
    const dst = formatMac(this.key, ETH_DST.offset);
    const vlan = ((this.key[VLAN_VID.offset]! << 8) | this.key[VLAN_VID.offset + 1]!) & 0xfff;
    const known = this.macLearning.lookup(dst, vlan);
    if (known === undefined) return 'no learned MAC for destination, flooding';
    if (known === this.inPort) return 'learned port is input port, dropping';
    return `forwarding to learned port ${formatPort(known)}`;
  }

  private group(groupId: number, step: TraceStep): void {
    if (!this.ofproto.groups.groups.has(groupId)) {
      step.notes = [`group ${groupId} does not exist`];
      return;
    }
    step.buckets = [];
    while (this.buckets.length && this.buckets[0]!.group.groupId === groupId) {
      const { group, bucket } = this.buckets.shift()!;
      // A bucket works on a copy of the packet, as in xlate.
      const saved = { packet: this.packet, key: this.key, stopped: this.stopped };
      const data = Buffer.from(this.packet.data);
      this.key = new Uint8Array(this.key);
      this.packet = { data, layout: parsePacket(data, this.key, this.inPort) };
      const steps: TraceStep[] = [];
      for (const a of group.buckets[bucket]?.actions ?? []) {
        steps.push(this.action(a));
        if (this.stopped) break;
      }
      this.packet = saved.packet;
      this.key = saved.key;
      this.stopped = saved.stopped;
      step.buckets.push({ bucket, steps });
    }
    if (!step.buckets.length) step.notes = ['no live bucket'];
  }
}

const METADATA = fieldSlot('metadata');
const TUNNEL_ID = fieldSlot('tunnel_id');

/**
 * The flow key of a traced packet: its headers, after the translation's own rewrites when
 * `actions` are given (not those inside group buckets), and the pipeline fields it entered with.
 */
export function traceFlowKey(flow: TraceFlow, actions: readonly DpAction[] = []): Uint8Array {
  const data = Buffer.from(flow.frame);
  const key = new Uint8Array(FLOW_KEY_BYTES);
  const packet: Packet = { data, layout: parsePacket(data, key, flow.inPort) };
  for (const a of actions) if (HEADER_ACTIONS.has(a.type)) applyHeaderAction(packet, a);
  parsePacket(packet.data, key, flow.inPort);
  key.set(oxmValueBytes('metadata', flow.metadata), METADATA.offset);
  key.set(oxmValueBytes('tunnel_id', flow.tunnelId), TUNNEL_ID.offset);
  return key;
}

/** Traces `flow` through `ofproto`'s pipeline without changing anything. */
export function traceFlow(bridge: string, ofproto: Ofproto, flow: TraceFlow): TraceReport {
  // The walker reads the MAC table the translation read (with anything it learned on the way).
  const view = readOnlyXlateBridge(ofproto);
  const t = xlate(view, { frame: flow.frame, inPort: flow.inPort, metadata: flow.metadata, tunnelId: flow.tunnelId });
  const { tables, actionSet } = new TraceWalker(ofproto, view.macLearning, flow.inPort, flow.frame, t).walk();
  const start = traceFlowKey(flow);
  const end = traceFlowKey(flow, t.actions);
  return {
    bridge,
    flow: formatFlow(start),
    tables,
    actionSet,
    finalFlow: formatFlow(end),
    flowChanged: !sameKey(start, end),
    megaflow: t.cacheable ? formatMatch(t.key, t.mask) : null,
    datapathActions: formatDpActions(t.actions),
  };
}

function stepLines(steps: TraceStep[], indent: number): string[] {
  const pad = ' '.repeat(indent);
  const lines: string[] = [];
  for (const step of steps) {
    lines.push(`${pad}${step.action}`);
    for (const note of step.notes ?? []) lines.push(`${pad} -> ${note}`);
    for (const b of step.buckets ?? []) {
      lines.push(`${pad}bucket ${b.bucket}`);
      lines.push(...stepLines(b.steps, indent + 8));
    }
  }
  return lines;
}

/** The trace as Open vSwitch prints it. */
export function traceText(r: TraceReport): string {
  const title = `bridge("${r.bridge}")`;
  const lines = [`Flow: ${r.flow}`, '', title, '-'.repeat(title.length)];
  for (const t of r.tables) {
    if (!t.rule) {
      lines.push(`${String(t.table).padStart(2)}. No match.`);
    } else {
      const cookie = BigInt(t.rule.cookie) === 0n ? '' : `, cookie ${t.rule.cookie}`;
      lines.push(`${String(t.table).padStart(2)}. ${t.rule.match ? `${t.rule.match}, ` : ''}priority ${t.rule.priority}${cookie}`);
    }
    lines.push(...stepLines(t.steps, 4));
  }
  if (r.actionSet) {
    lines.push('--. Executing action set:');
    lines.push(...stepLines(r.actionSet, 4));
  }
  lines.push('', `Final flow: ${r.flowChanged ? r.finalFlow : 'unchanged'}`);
  lines.push(`Megaflow: ${r.megaflow ?? 'none (a push or pop makes this translation run for every packet; nothing is cached)'}`);
  lines.push(`Datapath actions: ${r.datapathActions}`);
  return `${lines.join('\n')}\n`;
}
