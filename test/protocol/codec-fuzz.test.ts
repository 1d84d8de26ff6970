/*
 * Robustness: 100,000 deterministic mutations of the corpus messages (truncations, lying
 * length fields, byte flips, unknown types, bad versions, appended garbage). Every one must
 * give either a decoded message that encodes again, or a typed OfpDecodeError whose
 * (type, code) the specification names — never an exception, never a decoder fault, and the
 * mutations that must fail do fail with the right error. The framer is fuzzed the same way.
 */
import t from 'tap';
import {
  DECODER_FAULT, decodeMessage, type DecodeResult, encodeMessage, ERROR_NAMES, OfpDecodeError, OfpEncodeError, OfpFramer,
  OfpFramingError, OFPBRC_BAD_LEN, OFPBRC_BAD_TYPE, OFPBRC_BAD_VERSION, OFPET_BAD_REQUEST, OFPT_ERROR, OFPT_HELLO,
} from '../../protocol/index.ts';
import { readCorpusFiles } from '../helpers/corpus.ts';
import { prng } from '../helpers/prng.ts';

const MUTATIONS = 100_000;

type Mutation = { name: string; bytes: Buffer; mustFail?: { errType: number; code: number } };

function mutate(original: Buffer, rand: () => number): Mutation {
  const int = (n: number): number => Math.floor(rand() * n);
  const bytes = Buffer.from(original);
  const fixLength = (b: Buffer): Buffer => { if (b.length >= 4) b.writeUInt16BE(Math.min(b.length, 0xffff), 2); return b; };
  switch (int(9)) {
    case 0: { // Truncated, header still claims the full length.
      const cut = bytes.subarray(0, int(bytes.length));
      return { name: 'truncated', bytes: cut, mustFail: { errType: OFPET_BAD_REQUEST, code: OFPBRC_BAD_LEN } };
    }
    case 1: // Truncated with the header length fixed up: inner lengths now lie.
      return { name: 'truncated+fixed', bytes: fixLength(bytes.subarray(0, 8 + int(bytes.length - 7))) };
    case 2: { // A lying 16-bit length anywhere past the header.
      if (bytes.length > 10) bytes.writeUInt16BE(rand() < 0.5 ? int(0x10000) : int(bytes.length + 16), 8 + 2 * int((bytes.length - 10) / 2));
      return { name: 'u16 overwrite', bytes };
    }
    case 3: { // A lying 8-bit field (OXM lengths, counts, types).
      if (bytes.length > 8) bytes[8 + int(bytes.length - 8)] = int(256);
      return { name: 'u8 overwrite', bytes };
    }
    case 4: { // Several random bit flips.
      for (let i = 0, n = 1 + int(4); i < n; i++) { const at = int(bytes.length); bytes[at]! ^= 1 << int(8); }
      return { name: 'bit flips', bytes };
    }
    case 5: { // Unknown message type.
      bytes[1] = 30 + int(226);
      return { name: 'unknown type', bytes, mustFail: { errType: OFPET_BAD_REQUEST, code: OFPBRC_BAD_TYPE } };
    }
    case 6: { // Another OpenFlow version (only HELLO may carry one).
      if (bytes[1] === OFPT_HELLO || bytes[1] === OFPT_ERROR) return { name: 'version-independent type', bytes };
      bytes[0] = [1, 2, 3, 5, 6, 0, 0xff][int(7)]!;
      return { name: 'bad version', bytes, mustFail: { errType: OFPET_BAD_REQUEST, code: OFPBRC_BAD_VERSION } };
    }
    case 7: { // Garbage appended, length fixed up.
      const extra = Buffer.alloc(1 + int(24));
      for (let i = 0; i < extra.length; i++) extra[i] = int(256);
      return { name: 'appended', bytes: fixLength(Buffer.concat([bytes, extra])) };
    }
    default: { // Header length below the minimum or beyond the data.
      bytes.writeUInt16BE(rand() < 0.5 ? int(8) : bytes.length + 1 + int(100), 2);
      return { name: 'header length', bytes, mustFail: { errType: OFPET_BAD_REQUEST, code: OFPBRC_BAD_LEN } };
    }
  }
}

function isSpecError(e: OfpDecodeError): boolean {
  if (e.errType === 0xffff) return true;
  return ERROR_NAMES[e.errType]?.codes[e.errCode] !== undefined;
}

t.test(`${MUTATIONS} mutated messages give a message or a typed error`, async (t) => {
  const seeds = readCorpusFiles().map((l) => l.bytes).filter((b) => decodeMessage(b).ok);
  t.ok(seeds.length >= 300, `${seeds.length} valid seed messages`);
  const rand = prng(0x0f5c0de);
  const problems: string[] = [];
  const outcomes = { decoded: 0, rejected: 0, mustFailChecked: 0 };
  const errorKinds = new Map<string, number>();
  let slowest = 0;
  for (let i = 0; i < MUTATIONS; i++) {
    const m = mutate(seeds[i % seeds.length]!, rand);
    const started = performance.now();
    let result: DecodeResult;
    try {
      result = decodeMessage(m.bytes);
    } catch (e) {
      problems.push(`#${i} ${m.name}: threw ${(e as Error).stack}`);
      continue;
    }
    slowest = Math.max(slowest, performance.now() - started);
    if (result.ok) {
      outcomes.decoded++;
      if (m.mustFail) problems.push(`#${i} ${m.name}: decoded although it must fail`);
      try {
        const again = decodeMessage(encodeMessage(result.message));
        if (!again.ok) problems.push(`#${i} ${m.name}: re-encoded message does not decode: ${again.error.message}`);
      } catch (e) {
        if (!(e instanceof OfpEncodeError)) problems.push(`#${i} ${m.name}: encode threw ${(e as Error).message}`);
      }
      continue;
    }
    outcomes.rejected++;
    const e = result.error;
    const kind = `${ERROR_NAMES[e.errType]?.codes[e.errCode] ?? `${e.errType}/${e.errCode}`}`;
    errorKinds.set(kind, (errorKinds.get(kind) ?? 0) + 1);
    if (!(e instanceof OfpDecodeError)) problems.push(`#${i} ${m.name}: untyped error`);
    else if (e.detail.startsWith(DECODER_FAULT)) problems.push(`#${i} ${m.name}: ${e.detail} (${m.bytes.toString('hex')})`);
    else if (!isSpecError(e)) problems.push(`#${i} ${m.name}: error ${e.errType}/${e.errCode} has no spec name`);
    if (m.mustFail) {
      outcomes.mustFailChecked++;
      if (e.errType !== m.mustFail.errType || e.errCode !== m.mustFail.code) {
        problems.push(`#${i} ${m.name}: got ${e.message}, expected ${m.mustFail.errType}/${m.mustFail.code}`);
      }
    }
  }
  t.same(problems.slice(0, 20), [], `no crashes, decoder faults or wrong errors (${problems.length} problems)`);
  t.equal(outcomes.decoded + outcomes.rejected, MUTATIONS, 'every mutation gave a result');
  t.ok(outcomes.rejected > MUTATIONS / 2, `most mutations rejected (${outcomes.rejected} typed errors, ${outcomes.decoded} still valid)`);
  t.ok(outcomes.mustFailChecked > 10_000, `${outcomes.mustFailChecked} mutations checked for their exact error`);
  t.ok(errorKinds.size >= 15, `errors of ${errorKinds.size} kinds: ${[...errorKinds.keys()].sort().join(', ')}`);
  t.comment(`slowest single decode: ${slowest.toFixed(2)} ms`);
});

t.test('the framer cuts mutated streams or reports a framing error', async (t) => {
  const seeds = readCorpusFiles().map((l) => l.bytes);
  const rand = prng(42);
  let framed = 0;
  let framingErrors = 0;
  const problems: string[] = [];
  for (let i = 0; i < 2000; i++) {
    const stream = Buffer.concat(Array.from({ length: 5 }, () => mutate(seeds[Math.floor(rand() * seeds.length)]!, rand).bytes));
    const framer = new OfpFramer();
    try {
      for (let at = 0; at < stream.length;) {
        const step = 1 + Math.floor(rand() * 300);
        framed += framer.push(stream.subarray(at, at + step)).length;
        at += step;
      }
    } catch (e) {
      if (e instanceof OfpFramingError) framingErrors++;
      else problems.push(`stream ${i}: ${(e as Error).message}`);
    }
  }
  t.same(problems, [], 'only OfpFramingError is thrown');
  t.ok(framed > 0 && framingErrors > 0, `${framed} messages framed, ${framingErrors} streams refused`);
});
