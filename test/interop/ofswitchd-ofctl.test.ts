/*
 * The first switch, driven through its public surface: the real ovs-ofctl (show, dump-desc,
 * dump-ports-desc) against a running ofswitchd, and a raw OpenFlow client for the handshake,
 * echo, config, barrier and the errors for what is not implemented or malformed.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  encodeMessage, type OfpMessage, OFPBRC_BAD_LEN, OFPBRC_BAD_MULTIPART, OFPBRC_BAD_TYPE, OFPBRC_BAD_EXPERIMENTER,
  OFPBMC_BAD_PREREQ, OFPET_BAD_MATCH, OFPET_BAD_REQUEST, OFPET_ROLE_REQUEST_FAILED, OFPRRFC_BAD_ROLE, OFPET_HELLO_FAILED, OFPHFC_INCOMPATIBLE, OFPP_ANY, OFPG_ANY,
} from '../../protocol/index.ts';
import { OfClient } from '../helpers/ofclient.ts';
import { OFSWITCHD, startOfswitchd } from '../helpers/ofswitchd.ts';

const OVS_OFCTL = '/usr/bin/ovs-ofctl';

function ofctl(...args: string[]): { status: number | null; out: string; err: string } {
  const run = spawnSync(OVS_OFCTL, args, { encoding: 'utf8', timeout: 10_000 });
  return { status: run.status, out: run.stdout, err: run.stderr };
}

t.test('ovs-ofctl against ofswitchd', { skip: existsSync(OVS_OFCTL) ? false : `${OVS_OFCTL} not installed` }, async (t) => {
  const daemon = await startOfswitchd(['--datapath-id=0000000000000abc']);
  t.teardown(() => daemon.stop());
  const target = `unix:${daemon.mgmt}`;

  const show = ofctl('-O', 'OpenFlow13', 'show', target);
  t.equal(show.status, 0, `show exits 0 ${show.err}`);
  t.match(show.out, /OFPT_FEATURES_REPLY \(OF1\.3\) \(xid=0x\w+\): dpid:0000000000000abc\n/, 'features reply with the datapath id');
  t.match(show.out, 'n_tables:254, n_buffers:256', 'tables and buffers');
  t.match(show.out, 'capabilities: FLOW_STATS TABLE_STATS PORT_STATS GROUP_STATS QUEUE_STATS', 'capabilities');
  t.match(show.out, / LOCAL\(br0\): addr:[0-9a-f:]{17}\n\s+config:\s+0\n\s+state:\s+LIVE/, 'the LOCAL port, up and live as on an Open vSwitch userspace bridge');
  t.match(show.out, 'OFPT_GET_CONFIG_REPLY (OF1.3)', 'config reply');
  t.match(show.out, 'frags=normal miss_send_len=0', 'service connections get no packet data by default');

  const desc = ofctl('-O', 'OpenFlow13', 'dump-desc', target);
  t.equal(desc.status, 0, 'dump-desc exits 0');
  for (const line of ['Manufacturer: ofswitch project', 'Hardware: ofswitch', /Software: \d+\.\d+\.\d+/, 'Serial Num: None', 'DP Description: None']) {
    t.match(desc.out, line, `dump-desc shows ${String(line)}`);
  }

  const ports = ofctl('-O', 'OpenFlow13', 'dump-ports-desc', target);
  t.equal(ports.status, 0, 'dump-ports-desc exits 0');
  t.match(ports.out, /OFPST_PORT_DESC reply \(OF1\.3\)[^\n]*\n LOCAL\(br0\): addr:/, 'port description of LOCAL');
  t.match(ports.out, 'speed: 0 Mbps now, 0 Mbps max', 'speed line');

  const old = ofctl('-O', 'OpenFlow10', 'show', target);
  t.not(old.status, 0, 'an OpenFlow 1.0-only client is refused');
  t.match(old.err, 'version negotiation failed', 'ovs-ofctl reports the failed negotiation');

  const flows = ofctl('-O', 'OpenFlow13', 'dump-flows', target);
  t.equal(flows.status, 0, 'dump-flows exits 0');
  t.match(flows.out, /^OFPST_FLOW reply \(OF1\.3\) \(xid=0x\w+\):\n$/, 'an empty flow table');
});

t.test('OpenFlow handshake and requests over a raw connection', async (t) => {
  const daemon = await startOfswitchd();
  t.teardown(() => daemon.stop());
  const c = await OfClient.connect(daemon.mgmt);
  t.teardown(() => c.close());

  const hello = await c.next((m) => m.type === 'hello');
  t.same(hello.type === 'hello' && hello.elements, [{ type: 'versionbitmap', bitmaps: [0x10] }], 'switch says hello with version bitmap {1.3}');

  const echo = await c.request({ type: 'echo_request', xid: 10, data: Buffer.from('are you there') });
  t.same(echo, { type: 'echo_reply', version: 4, xid: 10, data: Buffer.from('are you there') }, 'echo reply carries the data');

  c.send({ type: 'set_config', xid: 11, flags: 1, missSendLen: 256 });
  const config = await c.request({ type: 'get_config_request', xid: 12 });
  t.same(config, { type: 'get_config_reply', version: 4, xid: 12, flags: 1, missSendLen: 256 }, 'set_config takes effect');

  const features = await c.request({ type: 'features_request', xid: 13 });
  t.equal(features.type, 'features_reply', 'features reply');

  const barrier = await c.request({ type: 'barrier_request', xid: 14 });
  t.equal(barrier.type, 'barrier_reply', 'barrier reply');

  const expectError = async (request: OfpMessage | Buffer, xid: number, errType: number, code: number, what: string): Promise<void> => {
    const raw = Buffer.isBuffer(request) ? request : encodeMessage(request);
    c.sendRaw(raw);
    const reply = await c.next((m) => m.xid === xid);
    t.equal(reply.type, 'error', `${what}: answered with an error`);
    if (reply.type !== 'error') return;
    t.same([reply.errType, reply.code], [errType, code], `${what}: error ${errType}/${code}`);
    t.equal(reply.data.toString('hex'), raw.toString('hex'), `${what}: the request is echoed`);
  };
  await expectError({ type: 'role_request', xid: 20, role: 7, generationId: 1n }, 20, OFPET_ROLE_REQUEST_FAILED, OFPRRFC_BAD_ROLE, 'role request with an unknown role');
  await expectError({ type: 'multipart_request', xid: 21, flags: 0, body: { mpType: 'experimenter', experimenter: 0x2320, expType: 1, data: Buffer.alloc(0) } }, 21, OFPET_BAD_REQUEST, OFPBRC_BAD_MULTIPART, 'experimenter multipart');
  await expectError({ type: 'experimenter', xid: 22, experimenter: 0x1234, expType: 1, data: Buffer.alloc(0) }, 22, OFPET_BAD_REQUEST, OFPBRC_BAD_EXPERIMENTER, 'unknown experimenter');
  await expectError({ type: 'packet_in', xid: 23, bufferId: 0, totalLen: 0, reason: 0, tableId: 0, cookie: 0n, match: [], data: Buffer.alloc(0) }, 23, OFPET_BAD_REQUEST, OFPBRC_BAD_TYPE, 'a switch-to-controller message');
  const unknownType = Buffer.from('04630008000000180000', 'hex').subarray(0, 8);
  await expectError(unknownType, 0x18, OFPET_BAD_REQUEST, OFPBRC_BAD_TYPE, 'unknown message type 99');
  const shortFeatures = Buffer.from('0405000c00000019deadbeef', 'hex');
  await expectError(shortFeatures, 0x19, OFPET_BAD_REQUEST, OFPBRC_BAD_LEN, 'features request with a body');
  // A flow stats request whose match lists tcp_dst without eth_type and ip_proto before it
  // (the encoder writes what it is given; the switch's decoder checks prerequisites).
  const prereqRequest = encodeMessage({
    type: 'multipart_request', xid: 0x20, flags: 0,
    body: { mpType: 'flow', tableId: 0xff, outPort: OFPP_ANY, outGroup: OFPG_ANY, cookie: 0n, cookieMask: 0n, match: [{ field: 'tcp_dst', value: 80 }] },
  });
  await expectError(prereqRequest, 0x20, OFPET_BAD_MATCH, OFPBMC_BAD_PREREQ, 'tcp_dst without its prerequisites');

  const after = await c.request({ type: 'echo_request', xid: 30, data: Buffer.alloc(0) });
  t.equal(after.type, 'echo_reply', 'the connection stays up after errors');
});

t.test('version negotiation failure and protocol errors close the connection', async (t) => {
  const daemon = await startOfswitchd();
  t.teardown(() => daemon.stop());

  const old = await OfClient.connect(daemon.mgmt, { type: 'hello', version: 1, xid: 5, elements: [] });
  const failed = await old.next((m) => m.type === 'error');
  t.ok(failed.type === 'error' && failed.errType === OFPET_HELLO_FAILED && failed.code === OFPHFC_INCOMPATIBLE, 'OFPET_HELLO_FAILED/INCOMPATIBLE');
  t.equal(failed.type === 'error' && failed.data.toString(), 'We support version 0x04, you support version 0x01, no common versions.', 'with a text reason');
  t.equal(failed.version, 1, 'in the peer\'s version');
  await old.waitClosed();
  t.pass('then disconnected');

  const bitmap = await OfClient.connect(daemon.mgmt, { type: 'hello', version: 5, xid: 6, elements: [{ type: 'versionbitmap', bitmaps: [0x22] }] });
  const bitmapFailed = await bitmap.next((m) => m.type === 'error');
  t.equal(bitmapFailed.type === 'error' && bitmapFailed.data.toString(), 'We support version 0x04, you support versions 0x01, 0x05, no common versions.', 'a bitmap without 1.3 is refused');

  const older = await OfClient.connect(daemon.mgmt, { type: 'hello', version: 3, xid: 6, elements: [] });
  const olderFailed = await older.next((m) => m.type === 'error');
  t.equal(olderFailed.type === 'error' && olderFailed.data.toString(), 'We support version 0x04, you support version 0x03 and earlier, no common versions.', 'a 1.2 hello without bitmap is refused');
  await bitmap.waitClosed();

  const newer = await OfClient.connect(daemon.mgmt, { type: 'hello', version: 6, xid: 7, elements: [{ type: 'versionbitmap', bitmaps: [0x70] }] });
  const echo = await newer.request({ type: 'echo_request', xid: 8, data: Buffer.alloc(0) });
  t.equal(echo.type, 'echo_reply', 'a peer offering 1.3-1.5 negotiates 1.3');
  newer.close();

  const rude = await OfClient.connect(daemon.mgmt, null);
  rude.send({ type: 'features_request', xid: 9 });
  await rude.waitClosed();
  t.pass('a first message other than HELLO closes the connection');

  const liar = await OfClient.connect(daemon.mgmt);
  liar.sendRaw(Buffer.from('0402000400000001', 'hex'));
  await liar.waitClosed();
  t.pass('a header length below 8 closes the connection');
});

t.test('daemon lifecycle', async (t) => {
  const daemon = await startOfswitchd(['--pidfile', '--bridge=br7'], 'br7');
  t.ok(existsSync(`${daemon.rundir}/ofswitchd.pid`), 'pidfile written');
  const mgmt = daemon.mgmt;
  const code = await daemon.stop();
  t.equal(code, 0, 'SIGTERM exits cleanly');
  t.notOk(existsSync(mgmt), 'the management socket is removed');

  for (const [args, message] of [
    [['--bogus'], /^ofswitchd: unrecognized option '--bogus'/],
    [['--bridge=../../etc'], /^ofswitchd: invalid bridge name/],
    [['--datapath-id=xyz'], /^ofswitchd: invalid datapath id/],
    [['-v=ANY:loud'], /^ofswitchd: unrecognized option|^ofswitchd: unknown log level/],
  ] as const) {
    const run = spawnSync(OFSWITCHD, [...args, '--rundir=/nonexistent/never-created'], { encoding: 'utf8', timeout: 15_000 });
    t.equal(run.status, 1, `${args.join(' ')}: exit status 1`);
    t.match(run.stderr, message, `${args.join(' ')}: one-line error`);
    t.equal(run.stderr.trim().split('\n').length, 1, `${args.join(' ')}: exactly one line`);
    t.notOk(existsSync('/nonexistent/never-created'), 'nothing created');
  }
});
