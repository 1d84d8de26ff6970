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
 * Writes a long multipart reply part by part: the caller writes each element into `w` and
 * calls mark() after it; a part goes to `send` as soon as the next element would not fit in
 * it, so that the first parts are on their way while later ones are still being encoded, and
 * only one part is held at a time. The parts are those splitMultipart() would give.
 */
export class MultipartReplyWriter {
  readonly w = new WireWriter(4096);
  /** Where the last whole element ends in `w`. */
  private elementsEnd = 0;
  private readonly room: number;

  constructor(
    private readonly header: Pick<MultipartReply, 'xid' | 'flags' | 'version'> & { mpType: MultipartReplyBody['mpType'] },
    private readonly send: (part: Buffer) => void,
    maxLen = OFP_MAX_MESSAGE_LEN,
  ) {
    this.room = maxLen - MULTIPART_HEADER_LEN;
  }

  /** Marks the end of an element; sends the part before it when it does not fit there. */
  mark(): void {
    const end = this.w.pos;
    if (end - this.elementsEnd > this.room) {
      throw new OfpEncodeError(`one ${this.header.mpType} element of ${end - this.elementsEnd} bytes is too large`);
    }
    if (end > this.room) {
      this.send(this.part(this.elementsEnd, true));
      // The element that did not fit starts the next part.
      this.w.buf.copy(this.w.buf, 0, this.elementsEnd, end);
      this.w.pos = end - this.elementsEnd;
    }
    this.elementsEnd = this.w.pos;
  }

  /** Sends the last part. */
  end(): void {
    this.send(this.part(this.w.pos, false));
  }

  private part(length: number, more: boolean): Buffer {
    const { version, xid, flags, mpType } = this.header;
    const part = Buffer.allocUnsafe(MULTIPART_HEADER_LEN + length);
    part[0] = version ?? OFP_VERSION;
    part[1] = OFPT_MULTIPART_REPLY;
    part.writeUInt16BE(part.length, 2);
    part.writeUInt32BE(xid, 4);
    part.writeUInt16BE(MULTIPART_TYPE_CODES[mpType], 8);
    part.writeUInt16BE(more ? flags | OFPMPF_REPLY_MORE : flags & ~OFPMPF_REPLY_MORE, 10);
    part.fill(0, 12, 16);
    this.w.buf.copy(part, MULTIPART_HEADER_LEN, 0, length);
    return part;
  }
}

/**
 * Encodes a reply as the sequence of messages splitMultipart() would give, writing every
 * element once (the fast path for large replies such as a dump of 100,000 flows).
 */
export function encodeMultipartReply(m: MultipartReply, maxLen = OFP_MAX_MESSAGE_LEN): Buffer[] {
  const parts: Buffer[] = [];
  const writer = new MultipartReplyWriter({ ...m, mpType: m.body.mpType }, (part) => parts.push(part), maxLen);
  if (!encodeReplyElements(writer.w, m.body, () => writer.mark())) return [encodeMessage(m)];
  writer.end();
  return parts;
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
