/*
 * Multipart sequences: a reply too large for one message is split at element boundaries
 * with REPLY_MORE on every part but the last; the assembler joins the parts back.
 */
import t from 'tap';
import {
  decodeMessage, encodeMessage, encodeMultipartReply, type FlowStats, MultipartAssembler, type MultipartReply, OfpDecodeError,
  OFPBRC_BAD_MULTIPART, OFPMPF_REPLY_MORE, splitMultipart,
} from '../../protocol/index.ts';

function flow(i: number): FlowStats {
  return {
    tableId: 0, durationSec: i, durationNsec: 0, priority: i % 65536, idleTimeout: 0, hardTimeout: 0, flags: 0,
    cookie: BigInt(i), packetCount: 0n, byteCount: 0n,
    match: [{ field: 'eth_type', value: 0x0800 }, { field: 'ipv4_dst', value: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` }],
    instructions: [{ type: 'apply_actions', actions: [{ type: 'output', port: 1 + (i % 4), maxLen: 0 }] }],
  };
}

t.test('a 5000-flow reply is split under 64 KiB and reassembled', async (t) => {
  const reply: MultipartReply = { type: 'multipart_reply', xid: 77, flags: 0, body: { mpType: 'flow', flows: Array.from({ length: 5000 }, (_, i) => flow(i)) } };
  const parts = splitMultipart(reply);
  t.ok(parts.length > 1, `${parts.length} parts`);
  const assembler = new MultipartAssembler();
  let joined: ReturnType<MultipartAssembler['add']>;
  parts.forEach((part, i) => {
    const bytes = encodeMessage(part);
    t.ok(bytes.length <= 0xffff, `part ${i} is ${bytes.length} bytes`);
    t.equal((part.flags & OFPMPF_REPLY_MORE) !== 0, i < parts.length - 1, `part ${i} REPLY_MORE flag`);
    const decoded = decodeMessage(bytes);
    if (!decoded.ok || decoded.message.type !== 'multipart_reply') throw new Error('part does not decode');
    joined = assembler.add(decoded.message, bytes.length);
    t.equal(joined === undefined, i < parts.length - 1, `part ${i}: ${joined ? 'completes' : 'waits for more'}`);
  });
  t.equal(assembler.pending, 0, 'nothing left pending');
  t.same(joined!.body, { mpType: 'flow', flows: reply.body.mpType === 'flow' ? reply.body.flows : [] }, 'every flow back, in order');
  t.equal(joined!.flags & OFPMPF_REPLY_MORE, 0, 'joined message has no MORE flag');
});

t.test('small bodies stay in one message; a single message is returned as is', async (t) => {
  const reply: MultipartReply = { type: 'multipart_reply', xid: 1, flags: 0, body: { mpType: 'aggregate', packetCount: 1n, byteCount: 2n, flowCount: 3 } };
  t.same(splitMultipart(reply), [reply]);
  t.equal(new MultipartAssembler().add(reply), reply);
});

t.test('interleaved sequences by xid, and parts of another type are refused', async (t) => {
  const a = new MultipartAssembler();
  const part = (xid: number, more: boolean, mpType: 'flow' | 'port_desc' = 'flow'): MultipartReply => ({
    type: 'multipart_reply', xid, flags: more ? OFPMPF_REPLY_MORE : 0,
    body: mpType === 'flow' ? { mpType, flows: [flow(xid)] } : { mpType, ports: [] },
  });
  t.equal(a.add(part(1, true)), undefined);
  t.equal(a.add(part(2, true)), undefined);
  t.equal(a.pending, 2, 'two sequences open');
  const two = a.add(part(2, false));
  t.equal(two?.body.mpType === 'flow' && two.body.flows.length, 2, 'sequence 2 joined');
  const errorOf = (f: () => unknown): unknown => { try { f(); return undefined; } catch (e) { return e; } };
  const otherType = errorOf(() => a.add(part(1, false, 'port_desc')));
  t.ok(otherType instanceof OfpDecodeError && otherType.errCode === OFPBRC_BAD_MULTIPART, 'a part of another type is BAD_MULTIPART');
  const notList = errorOf(() => new MultipartAssembler().add({ type: 'multipart_reply', xid: 3, flags: 1, body: { mpType: 'desc', mfrDesc: '', hwDesc: '', swDesc: '', serialNum: '', dpDesc: '' } }));
  t.ok(notList instanceof OfpDecodeError && notList.errCode === OFPBRC_BAD_MULTIPART, 'a body that is not a list cannot continue');
});

t.test('a sequence past the assembler limit is refused', async (t) => {
  const a = new MultipartAssembler(1000);
  const part: MultipartReply = { type: 'multipart_reply', xid: 9, flags: 1, body: { mpType: 'flow', flows: [flow(1)] } };
  a.add(part, 600);
  t.throws(() => a.add(part, 600), /MULTIPART_BUFFER_OVERFLOW|over 1000 bytes/);
});

t.test('encodeMultipartReply writes exactly what splitMultipart and encodeMessage write', async (t) => {
  const reply: MultipartReply = { type: 'multipart_reply', xid: 5, flags: 0, body: { mpType: 'flow', flows: Array.from({ length: 3000 }, (_, i) => flow(i)) } };
  const fast = encodeMultipartReply(reply);
  const slow = splitMultipart(reply).map((m) => encodeMessage(m));
  t.ok(fast.length > 1, `${fast.length} parts`);
  t.same(fast.map((b) => b.toString('hex')), slow.map((b) => b.toString('hex')), 'byte for byte');
  const empty: MultipartReply = { type: 'multipart_reply', xid: 6, flags: 0, body: { mpType: 'flow', flows: [] } };
  t.same(encodeMultipartReply(empty).map((b) => b.toString('hex')), [encodeMessage(empty).toString('hex')], 'an empty list is one message');
  const desc: MultipartReply = { type: 'multipart_reply', xid: 7, flags: 0, body: { mpType: 'desc', mfrDesc: 'a', hwDesc: 'b', swDesc: 'c', serialNum: 'd', dpDesc: 'e' } };
  t.same(encodeMultipartReply(desc).map((b) => b.toString('hex')), [encodeMessage(desc).toString('hex')], 'a body that is not a list is one message');
});
