/*
 * Round trip over the whole codec corpus (ours, os-ken's and recorded ovs-ofctl traffic):
 * decode then encode is byte-identical; our own corpus decodes to exactly the typed
 * messages it was built from, and covers every message type, OXM field, action,
 * instruction and multipart type.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { buildCorpus, CORPUS_FILE } from '../../fixtures/codec-corpus/build-corpus.ts';
import {
  ACTION_TYPE_CODES, type Action, decodeMessage, encodeMessage, ERROR_NAMES, INSTRUCTION_TYPE_CODES, type Instruction,
  MESSAGE_TYPE_CODES, MULTIPART_TYPE_CODES, type OfpMessage, OXM_FIELDS,
} from '../../protocol/index.ts';
import { readCorpusFiles } from '../helpers/corpus.ts';

const corpus = buildCorpus();

t.test('every corpus message decodes and re-encodes byte for byte', async (t) => {
  const lines = readCorpusFiles();
  t.ok(lines.length >= 300, `corpus holds ${lines.length} messages`);
  for (const line of lines) {
    const decoded = decodeMessage(line.bytes);
    if (!decoded.ok) {
      t.fail(`${line.file}: ${line.label}: ${decoded.error.message}`);
      continue;
    }
    t.equal(encodeMessage(decoded.message).toString('hex'), line.bytes.toString('hex'), `${line.file}: ${line.label}`);
  }
});

t.test('ofswitch.jsonl is what build-corpus.ts builds', async (t) => {
  const fileLines = readFileSync(CORPUS_FILE, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { name: string; hex: string });
  t.equal(fileLines.length, corpus.length, 'same number of messages (rerun build-corpus.ts after changing it)');
  corpus.forEach((entry, i) => {
    const bytes = encodeMessage(entry.message);
    t.equal(fileLines[i]?.hex, bytes.toString('hex'), `bytes of ${entry.name}`);
    const decoded = decodeMessage(bytes);
    t.ok(decoded.ok, `${entry.name} decodes`);
    if (decoded.ok) t.same(decoded.message, withVersion(entry.message), `${entry.name} decodes to the message it was built from`);
  });
});

function withVersion(m: OfpMessage): OfpMessage {
  const copy = { version: 4, ...m } as OfpMessage;
  if (copy.type === 'bundle_add') copy.message = withVersion(copy.message);
  return copy;
}

t.test('the corpus covers the whole protocol', async (t) => {
  const messageTypes = new Set<string>();
  const fields = new Set<string>();
  const maskedFields = new Set<string>();
  const actions = new Set<string>();
  const instructions = new Set<string>();
  const requests = new Set<string>();
  const replies = new Set<string>();
  const visitActions = (list: Action[]): void => {
    for (const a of list) {
      actions.add(a.type);
      if (a.type === 'set_field' && a.field.field !== 'opaque') fields.add(`set:${a.field.field}`);
    }
  };
  const visitInstructions = (list: Instruction[]): void => {
    for (const ins of list) {
      instructions.add(ins.type);
      if (ins.type === 'apply_actions' || ins.type === 'write_actions') visitActions(ins.actions);
    }
  };
  const visit = (m: OfpMessage): void => {
    messageTypes.add(m.type);
    if (m.type === 'flow_mod') {
      for (const f of m.match) {
        fields.add(f.field);
        if ('mask' in f && f.mask !== undefined) maskedFields.add(f.field);
      }
      visitInstructions(m.instructions);
    }
    if (m.type === 'packet_out') visitActions(m.actions);
    if (m.type === 'group_mod') for (const b of m.buckets) visitActions(b.actions);
    if (m.type === 'multipart_request') requests.add(m.body.mpType);
    if (m.type === 'multipart_reply') replies.add(m.body.mpType);
    if (m.type === 'bundle_add') visit(m.message);
  };
  for (const entry of corpus) visit(entry.message);
  t.same([...Object.keys(MESSAGE_TYPE_CODES)].filter((k) => !messageTypes.has(k)), [], 'every message type');
  t.same(OXM_FIELDS.map((f) => f.name).filter((n) => !fields.has(n)), [], 'every OXM field in a match');
  t.same(OXM_FIELDS.filter((f) => f.maskable).map((f) => f.name).filter((n) => !maskedFields.has(n)), [], 'every maskable OXM field masked');
  t.same(Object.keys(ACTION_TYPE_CODES).filter((k) => !actions.has(k)), [], 'every action');
  t.same(Object.keys(INSTRUCTION_TYPE_CODES).filter((k) => !instructions.has(k)), [], 'every instruction');
  t.same(Object.keys(MULTIPART_TYPE_CODES).filter((k) => !requests.has(k)), [], 'every multipart request');
  t.same(Object.keys(MULTIPART_TYPE_CODES).filter((k) => !replies.has(k)), [], 'every multipart reply');
  const errorCodes = Object.values(ERROR_NAMES).reduce((n, e) => n + e.codes.length, 0);
  t.ok(corpus.filter((e) => e.message.type === 'error').length > errorCodes, `every one of ${errorCodes} error codes, and an experimenter error`);
});
