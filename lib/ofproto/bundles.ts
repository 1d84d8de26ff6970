/*
 * Bundles: the ONF extension EXT-230 that OpenFlow 1.3 controllers (and `ovs-ofctl --bundle`)
 * use to apply several modifications at once. A connection opens a bundle, adds flow-mods,
 * group-mods, port-mods or packet-outs to it, closes it and commits it: the commit applies
 * every message in order or, if one fails, none of them (Open vSwitch's ofproto/bundles.c).
 *
 * Errors are ONF experimenter errors (OFPET_EXPERIMENTER, experimenter 0x4f4e4600, exp_type
 * 2300 + the OpenFlow 1.4 OFPBFC_* code), as Open vSwitch sends them over OpenFlow 1.3.
 */
import {
  type BundleAdd, type BundleControl, OFPBCT_CLOSE_REQUEST, OFPBCT_COMMIT_REQUEST, OFPBCT_DISCARD_REQUEST,
  OFPBCT_OPEN_REQUEST, OFPBF_ATOMIC, OFPBF_ORDERED, OFPET_EXPERIMENTER, OfpError, type OfpMessage, ONF_EXPERIMENTER_ID,
} from '../../protocol/index.ts';
import type { MaskedKey } from '../classifier/index.ts';

/** OpenFlow 1.4 bundle failure codes; over 1.3 they travel as exp_type 2300 + code. */
export const OFPBFC_BAD_ID = 2;
export const OFPBFC_BUNDLE_CLOSED = 4;
export const OFPBFC_BAD_TYPE = 6;
export const OFPBFC_BAD_FLAGS = 7;
export const OFPBFC_MSG_BAD_XID = 9;
export const OFPBFC_MSG_UNSUP = 10;
export const OFPBFC_MSG_FAILED = 13;
const ONF_BUNDLE_ERROR_BASE = 2300;

export function bundleError(code: number, detail: string): OfpError {
  return new OfpError(OFPET_EXPERIMENTER, ONF_BUNDLE_ERROR_BASE + code, detail, ONF_EXPERIMENTER_ID);
}

/** An ONF BUNDLE_ADD's header before the bundled message: ofp_header, experimenter, exp_type, bundle_id, pad, flags. */
const BUNDLE_ADD_HEADER_LEN = 24;

/**
 * A bundled message with its own bytes, the BUNDLE_ADD that carried it (a message failing at
 * commit is answered with that, as Open vSwitch does) and, for a flow-mod, the flow key its
 * match was checked with when it was added (reused at commit).
 */
export interface BundledMessage {
  message: OfpMessage;
  raw: Buffer;
  addRaw: Buffer;
  key?: MaskedKey;
}

interface Bundle {
  flags: number;
  closed: boolean;
  messages: BundledMessage[];
}

const BUNDLEABLE = new Set<OfpMessage['type']>(['flow_mod', 'group_mod', 'port_mod', 'packet_out']);
const KNOWN_FLAGS = OFPBF_ATOMIC | OFPBF_ORDERED;

export interface BundleHost {
  /** Applies every message (with its bytes) in one transaction; throws BundleCommitError for the first that fails. */
  commitBundle(messages: BundledMessage[]): void;
  /** Sends `error` to the connection as the answer to `raw`. */
  sendError(error: OfpError, raw: Buffer, xid: number): void;
  reply(message: OfpMessage): void;
}

/** Raised by BundleHost.commitBundle: which message failed, and why. */
export class BundleCommitError extends Error {
  constructor(readonly index: number, readonly error: OfpError) {
    super(`bundled message ${index} failed: ${error.message}`);
  }
}

/** The bundles of one connection. */
export class BundleSet {
  private readonly bundles = new Map<number, Bundle>();

  control(m: BundleControl, host: BundleHost): void {
    if (m.flags & ~KNOWN_FLAGS) throw bundleError(OFPBFC_BAD_FLAGS, `bundle flags 0x${m.flags.toString(16)}`);
    const bundle = this.bundles.get(m.bundleId);
    switch (m.controlType) {
      case OFPBCT_OPEN_REQUEST:
        if (bundle) {
          this.bundles.delete(m.bundleId);
          throw bundleError(OFPBFC_BAD_ID, `bundle ${m.bundleId} already exists`);
        }
        this.bundles.set(m.bundleId, { flags: m.flags, closed: false, messages: [] });
        break;
      case OFPBCT_CLOSE_REQUEST:
        if (!bundle) throw bundleError(OFPBFC_BAD_ID, `no bundle ${m.bundleId}`);
        this.refuseIfUnfit(m.bundleId, bundle, m.flags);
        bundle.closed = true;
        break;
      case OFPBCT_COMMIT_REQUEST:
        if (!bundle) throw bundleError(OFPBFC_BAD_ID, `no bundle ${m.bundleId}`);
        // The bundle is gone after a commit, whatever its outcome.
        this.bundles.delete(m.bundleId);
        if (bundle.flags !== m.flags) throw bundleError(OFPBFC_BAD_FLAGS, 'flags differ from the open request');
        try {
          host.commitBundle(bundle.messages);
        } catch (e) {
          if (!(e instanceof BundleCommitError)) throw e;
          const failed = bundle.messages[e.index]!;
          host.sendError(e.error, failed.addRaw, failed.message.xid);
          throw bundleError(OFPBFC_MSG_FAILED, e.message);
        }
        break;
      case OFPBCT_DISCARD_REQUEST:
        if (!bundle) throw bundleError(OFPBFC_BAD_ID, `no bundle ${m.bundleId}`);
        this.bundles.delete(m.bundleId);
        break;
      default:
        throw bundleError(OFPBFC_BAD_TYPE, `bundle control type ${m.controlType} is a reply`);
    }
    host.reply({ type: 'bundle_control', xid: m.xid, bundleId: m.bundleId, controlType: m.controlType + 1, flags: 0, properties: Buffer.alloc(0) });
  }

  /**
   * A close or add for a bundle that is closed, or with other flags than it was opened with,
   * is refused and the bundle discarded (OpenFlow 1.4 section 7.3.9.7; Open vSwitch alike).
   */
  private refuseIfUnfit(id: number, bundle: Bundle, flags: number): void {
    if (!bundle.closed && bundle.flags === flags) return;
    this.bundles.delete(id);
    if (bundle.closed) throw bundleError(OFPBFC_BUNDLE_CLOSED, `bundle ${id} is closed`);
    throw bundleError(OFPBFC_BAD_FLAGS, 'flags differ from the open request');
  }

  /**
   * Adds a message; `addRaw` is the BUNDLE_ADD's encoding, which holds the message's own.
   * `check` refuses it (throws) or returns the flow key of a flow-mod's match.
   */
  add(m: BundleAdd, addRaw: Buffer, check: (message: OfpMessage, raw: Buffer) => MaskedKey | undefined): void {
    if (m.flags & ~KNOWN_FLAGS) throw bundleError(OFPBFC_BAD_FLAGS, `bundle flags 0x${m.flags.toString(16)}`);
    if (!BUNDLEABLE.has(m.message.type)) throw bundleError(OFPBFC_MSG_UNSUP, `${m.message.type} cannot be bundled`);
    if (m.message.xid !== m.xid) throw bundleError(OFPBFC_MSG_BAD_XID, 'bundled message xid differs from the bundle add');
    // A copy: the bytes may be a view into a socket buffer that is reused.
    const copy = Buffer.from(addRaw);
    const raw = copy.subarray(BUNDLE_ADD_HEADER_LEN, BUNDLE_ADD_HEADER_LEN + copy.readUInt16BE(BUNDLE_ADD_HEADER_LEN + 2));
    const key = check(m.message, raw);
    let bundle = this.bundles.get(m.bundleId);
    if (!bundle) {
      bundle = { flags: m.flags, closed: false, messages: [] };
      this.bundles.set(m.bundleId, bundle);
    } else {
      this.refuseIfUnfit(m.bundleId, bundle, m.flags);
    }
    bundle.messages.push({ message: m.message, raw, addRaw: copy, ...(key ? { key } : {}) });
  }
}
