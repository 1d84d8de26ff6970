/*
 * Multipart messages longer than one OpenFlow message (64 KiB) travel as a sequence of
 * messages with the same xid, every one but the last flagged REQ_MORE / REPLY_MORE.
 * splitMultipart() cuts one logical request or reply into such a sequence at element
 * boundaries; MultipartAssembler joins a received sequence back into one logical message.
 */
import { OFP_MAX_MESSAGE_LEN, OFP_VERSION, OFPMPF_REPLY_MORE, OFPT_MULTIPART_REPLY } from './constants.ts';
import { OFPBRC_BAD_MULTIPART, OFPBRC_MULTIPART_BUFFER_OVERFLOW, OFPET_BAD_REQUEST, OfpDecodeError, OfpEncodeError } from './errors.ts';
import { encodeMessage, type MultipartReply, type MultipartRequest } from './messages.ts';
import { encodeReplyElements, MULTIPART_TYPE_CODES, type MultipartReplyBody, type MultipartRequestBody } from './multipart.ts';
import { WireWriter } from './wire.ts';

type MultipartMessage = MultipartRequest | MultipartReply;
type Body = MultipartRequestBody | MultipartReplyBody;

/** The name of the array that holds a body's elements, for the bodies that are lists. */
function listKey(body: Body): string | undefined {
  for (const key of ['flows', 'tables', 'ports', 'queues', 'groups', 'meters'] as const) {
    if (key in body && Array.isArray((body as unknown as Record<string, unknown>)[key])) return key;
  }
  return undefined;
}

function withElements<M extends MultipartMessage>(m: M, key: string, elements: unknown[], more: boolean): M {
  const flags = more ? m.flags | OFPMPF_REPLY_MORE : m.flags & ~OFPMPF_REPLY_MORE;
  return { ...m, flags, body: { ...m.body, [key]: elements } };
}

/**
 * Splits `m` into messages of at most `maxLen` bytes each. A body that is not a list, or a
 * single element too large to fit, raises OfpEncodeError.
 */
export function splitMultipart<M extends MultipartMessage>(m: M, maxLen = OFP_MAX_MESSAGE_LEN): M[] {
  const key = listKey(m.body);
  if (key === undefined) {
    if (encodeMessage(m).length > maxLen) throw new OfpEncodeError(`${m.body.mpType} body does not fit one message`);
    return [m];
  }
  const elements = (m.body as unknown as Record<string, unknown[]>)[key]!;
  const headerLen = encodeMessage(withElements(m, key, [], false)).length;
  const parts: M[] = [];
  let current: unknown[] = [];
  let currentLen = headerLen;
  for (const element of elements) {
    const elementLen = encodeMessage(withElements(m, key, [element], false)).length - headerLen;
    if (headerLen + elementLen > maxLen) throw new OfpEncodeError(`one ${m.body.mpType} element of ${elementLen} bytes is too large`);
    if (currentLen + elementLen > maxLen) {
      parts.push(withElements(m, key, current, true));
      current = [];
      currentLen = headerLen;
    }
    current.push(element);
    currentLen += elementLen;
  }
  parts.push(withElements(m, key, current, false));
  return parts;
}

/** Bytes of ofp_header plus the multipart header that start every part. */
const MULTIPART_HEADER_LEN = 16;

/**
 * Encodes a reply as the sequence of messages splitMultipart() would give, writing every
 * element once (the fast path for large replies such as a dump of 100,000 flows).
 */
export function encodeMultipartReply(m: MultipartReply, maxLen = OFP_MAX_MESSAGE_LEN): Buffer[] {
  const w = new WireWriter(4096);
  const ends: number[] = [];
  if (!encodeReplyElements(w, m.body, () => ends.push(w.pos))) return [encodeMessage(m)];
  const body = w.finish();
  const room = maxLen - MULTIPART_HEADER_LEN;
  const cuts: Array<[number, number]> = [];
  let start = 0;
  let previous = 0;
  for (const end of ends) {
    if (end - previous > room) throw new OfpEncodeError(`one ${m.body.mpType} element of ${end - previous} bytes is too large`);
    if (end - start > room) {
      cuts.push([start, previous]);
      start = previous;
    }
    previous = end;
  }
  cuts.push([start, previous]);
  return cuts.map(([from, to], i) => {
    const part = Buffer.allocUnsafe(MULTIPART_HEADER_LEN + to - from);
    const more = i < cuts.length - 1;
    part[0] = m.version ?? OFP_VERSION;
    part[1] = OFPT_MULTIPART_REPLY;
    part.writeUInt16BE(part.length, 2);
    part.writeUInt32BE(m.xid, 4);
    part.writeUInt16BE(MULTIPART_TYPE_CODES[m.body.mpType], 8);
    part.writeUInt16BE(more ? m.flags | OFPMPF_REPLY_MORE : m.flags & ~OFPMPF_REPLY_MORE, 10);
    part.fill(0, 12, 16);
    body.copy(part, MULTIPART_HEADER_LEN, from, to);
    return part;
  });
}

/**
 * Joins multipart sequences. add() returns the logical message once its last part has
 * arrived, undefined while more are expected, and throws OfpDecodeError for a part that
 * does not continue its sequence (different type) or a sequence that grows past the limit.
 */
export class MultipartAssembler {
  private readonly partial = new Map<number, { message: MultipartMessage; bytes: number }>();

  constructor(private readonly maxBytes = 16 * 1024 * 1024) {}

  add<M extends MultipartMessage>(part: M, partBytes = 0): M | undefined {
    const more = (part.flags & OFPMPF_REPLY_MORE) !== 0;
    const earlier = this.partial.get(part.xid);
    if (!earlier) {
      if (!more) return part;
      if (listKey(part.body) === undefined) {
        throw new OfpDecodeError(OFPET_BAD_REQUEST, OFPBRC_BAD_MULTIPART, `${part.body.mpType} cannot continue`);
      }
      this.partial.set(part.xid, { message: part, bytes: partBytes });
      return undefined;
    }
    if (earlier.message.type !== part.type || earlier.message.body.mpType !== part.body.mpType) {
      this.partial.delete(part.xid);
      throw new OfpDecodeError(OFPET_BAD_REQUEST, OFPBRC_BAD_MULTIPART, 'multipart part of another type');
    }
    const key = listKey(part.body)!;
    const joined = [
      ...(earlier.message.body as unknown as Record<string, unknown[]>)[key]!,
      ...(part.body as unknown as Record<string, unknown[]>)[key]!,
    ];
    const bytes = earlier.bytes + partBytes;
    if (bytes > this.maxBytes) {
      this.partial.delete(part.xid);
      throw new OfpDecodeError(OFPET_BAD_REQUEST, OFPBRC_MULTIPART_BUFFER_OVERFLOW, `multipart sequence over ${this.maxBytes} bytes`);
    }
    const message = withElements(earlier.message as M, key, joined, more);
    if (more) {
      this.partial.set(part.xid, { message, bytes });
      return undefined;
    }
    this.partial.delete(part.xid);
    return message;
  }

  /** Sequences still waiting for their last part. */
  get pending(): number {
    return this.partial.size;
  }
}
