/*
 * The management socket in process: the command registry (argument counts and Open vSwitch's
 * error wording), list-commands and help, text and JSON output, JSON-RPC framing (several
 * requests in one write, one request split over many, whitespace between), requests answered
 * in order, replies written before `afterReply` runs, and a garbled stream closing the
 * connection.
 */
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  JsonStreamParser, UnixctlClient, UnixctlCommandError, unixctlCommand, UnixctlError, UnixctlServer,
} from '../../lib/unixctl/index.ts';

async function withServer(t: Test): Promise<UnixctlServer> {
  const dir = mkdtempSync(join(tmpdir(), 'unixctl-'));
  const server = await UnixctlServer.listen(join(dir, 'test.ctl'), { version: '9.9.9' });
  t.teardown(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  server.register({
    name: 'echo', usage: 'word...', minArgs: 1, maxArgs: 3, help: 'say the words back',
    handler: ({ args }) => ({ text: `${args.join(' ')}\n`, data: { words: args } }),
  });
  server.register({
    name: 'slow', usage: 'ms', minArgs: 1, maxArgs: 1, help: 'answer after a while',
    handler: async ({ args }) => {
      await new Promise((r) => setTimeout(r, Number(args[0])));
      return { text: `slept ${args[0]}\n` };
    },
  });
  server.register({
    name: 'refuse', usage: '', minArgs: 0, maxArgs: 0, help: 'always refuse',
    handler: () => { throw new UnixctlError('no, thank you'); },
  });
  server.register({
    name: 'crash', usage: '', minArgs: 0, maxArgs: 0, help: 'a bug',
    handler: () => { throw new TypeError('undefined is not a function'); },
  });
  return server;
}

t.test('the registry: commands, argument counts, errors', async (t) => {
  const server = await withServer(t);
  t.throws(() => server.register({ name: 'echo', usage: '', minArgs: 0, maxArgs: 0, help: '', handler: () => ({ text: '' }) }),
    /already registered/, 'a name is registered once');

  const list = await unixctlCommand(server.path, 'list-commands') as string;
  t.match(list, /^The available commands are:\n/, 'list-commands heading');
  t.match(list, /\n {2}echo {20}word\.\.\.\n/, 'a command and its usage, in ovs-appctl\'s columns');
  t.match(list, /\n {2}list-commands\n/, 'list-commands lists itself');
  t.match(list, /\n {2}version\n/, 'version is built in when the server has one');
  t.equal(await unixctlCommand(server.path, 'version'), 'ofswitchd (ofswitch) 9.9.9\n', 'version');
  t.equal(await unixctlCommand(server.path, 'help', ['echo']), 'echo word...\n  say the words back\n', 'help COMMAND');

  t.equal(await unixctlCommand(server.path, 'echo', ['a', 'b']), 'a b\n', 'a command runs with its arguments');
  const cases: Array<[string, string[], string]> = [
    ['nosuch', [], '"nosuch" is not a valid command (use "list-commands" to see a list of valid commands)'],
    ['echo', [], '"echo" command requires at least 1 arguments'],
    ['echo', ['1', '2', '3', '4'], '"echo" command takes at most 3 arguments'],
    ['refuse', [], 'no, thank you'],
    ['crash', [], 'internal error: undefined is not a function'],
  ];
  for (const [method, params, error] of cases) {
    await t.rejects(unixctlCommand(server.path, method, params), new UnixctlCommandError(error), `${method} ${params.join(' ')}: ${error}`);
  }
  const client = await UnixctlClient.connect(server.path);
  t.teardown(() => client.close());
  const reply = await client.transact('echo', [1 as unknown as string]);
  t.same(reply, { result: null, error: '"echo" command has non-string argument', id: reply.id }, 'non-string arguments are refused');
  t.equal(await client.run('echo', ['still', 'connected']), 'still connected\n', 'an error leaves the connection usable');
});

t.test('JSON output', async (t) => {
  const server = await withServer(t);
  t.same(await unixctlCommand(server.path, 'echo', ['x', 'y'], 'json'), { words: ['x', 'y'] }, 'a command\'s data');
  t.equal(await unixctlCommand(server.path, 'slow', ['1'], 'json'), 'slept 1\n', 'a command without data gives its text');
  const commands = await unixctlCommand(server.path, 'list-commands', [], 'json') as Array<{ name: string; minArgs: number }>;
  t.ok(commands.some((c) => c.name === 'echo' && c.minArgs === 1), 'list-commands as data');
  const client = await UnixctlClient.connect(server.path);
  t.teardown(() => client.close());
  await t.rejects(client.run('set-options', ['--format', 'xml']), /unknown format "xml"/, 'an unknown format is refused');
  await t.rejects(client.run('set-options', ['--colour']), /unknown option "--colour"/, 'an unknown option is refused');
  await client.run('set-options', ['--format=json']);
  t.same(await client.run('echo', ['z']), { words: ['z'] }, '--format=json in one word');
  await client.setFormat('text');
  t.equal(await client.run('echo', ['z']), 'z\n', 'and back to text');
});

t.test('JSON-RPC framing, ordering, afterReply', async (t) => {
  const server = await withServer(t);
  let afterReplyRan = false;
  server.register({
    name: 'bye', usage: '', minArgs: 0, maxArgs: 0, help: 'answer, then act',
    handler: () => ({ text: 'bye\n', afterReply: () => { afterReplyRan = true; } }),
  });
  const socket = createConnection(server.path);
  t.teardown(() => socket.destroy());
  await new Promise((r) => socket.once('connect', r));
  const parser = new JsonStreamParser();
  const replies: unknown[] = [];
  socket.setEncoding('utf8');
  socket.on('data', (text: string) => replies.push(...parser.feed(text)));
  // A slow request first: the quick one behind it is still answered second.
  socket.write('{"method":"slow","params":["50"],"id":1} \n{"method":"echo","params":["two"],"id":"two"}');
  const split = JSON.stringify({ method: 'echo', params: ['{"braces":"in a string}"}'], id: 3 });
  for (const piece of [split.slice(0, 5), split.slice(5, 30), split.slice(30)]) {
    socket.write(piece);
    await new Promise((r) => setTimeout(r, 5));
  }
  socket.write('{"method":"echo","params":["notified"],"id":null}{"method":"bye","params":[],"id":4}');
  const deadline = Date.now() + 5000;
  while (replies.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  t.same(replies, [
    { result: 'slept 50\n', error: null, id: 1 },
    { result: 'two\n', error: null, id: 'two' },
    { result: '{"braces":"in a string}"}\n', error: null, id: 3 },
    { result: 'bye\n', error: null, id: 4 },
  ], 'replies in request order, with their ids; a notification (id null) gets none');
  t.ok(afterReplyRan, 'afterReply ran once the reply was written');

  const garbled = createConnection(server.path);
  const closed = new Promise((r) => garbled.once('close', r));
  garbled.on('error', () => undefined);
  garbled.write('this is not json');
  await closed;
  t.pass('a stream that is not JSON-RPC is closed');
  t.equal(await unixctlCommand(server.path, 'echo', ['ok']), 'ok\n', 'and the server goes on');
});

t.test('JsonStreamParser', async (t) => {
  const p = new JsonStreamParser();
  t.same(p.feed('{"a":"\\"}"}{"b'), [{ a: '"}' }], 'an escaped quote does not end a string');
  t.same(p.feed('":[1,{"c":2}]}  '), [{ b: [1, { c: 2 }] }], 'nesting, and the rest after a split');
  t.throws(() => new JsonStreamParser().feed('[1]'), /unexpected '\['/, 'only objects at the top level');
  t.throws(() => new JsonStreamParser().feed('{"a":}'), 'malformed JSON');
});

t.test('listening removes a stale socket file; close removes the socket', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'unixctl-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'x.ctl');
  const first = await UnixctlServer.listen(path);
  const second = await UnixctlServer.listen(path);
  t.equal(await unixctlCommand(path, 'list-commands').then((r) => typeof r), 'string', 'the new server answers');
  await second.close();
  await first.close();
  await t.rejects(UnixctlClient.connect(path), { code: 'ENOENT' }, 'no socket file after close');
});
