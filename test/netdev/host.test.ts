/*
 * The simulated host of test/helpers/host.ts, checked on its own and across ofswitch stream
 * netdevs: checksums against a published vector and against tshark, ARP and ICMP echo answers,
 * ping through two stream ports joined back to back (which pad short frames to 60 bytes, so
 * the host must read padded ARP), both ways of attaching (connect to a port's pstream, listen
 * for a port's stream), and that close() leaves no socket behind.
 */
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writePcap } from '../../protocol/pcap.ts';
import { NetdevRegistry, StreamNetdev } from '../../lib/netdev/index.ts';
import {
  ARP_OP_REPLY, arpFrame, BROADCAST_MAC, ETH_TYPE_IPV4, ethernetFrame, ICMP_ECHO_REQUEST, icmpEcho, internetChecksum,
  IP_PROTO_ICMP, ipv4Packet, parseFrame, SimHost,
} from '../helpers/host.ts';
import { tempDir, waitFor } from './util.ts';

const TSHARK = '/usr/bin/tshark';

function registry(t: Test): NetdevRegistry {
  const reg = new NetdevRegistry();
  t.teardown(() => reg.closeAll());
  return reg;
}

async function host(t: Test, how: 'connect' | 'listen', path: string, mac: string, ip: string): Promise<SimHost> {
  const h = how === 'connect' ? await SimHost.connect(path, { mac, ip }) : await SimHost.listen(path, { mac, ip });
  t.teardown(() => h.close());
  return h;
}

/** Two stream ports joined back to back, each with a pstream socket for a host. */
async function wire(t: Test, options: Record<string, string> = {}) {
  const reg = registry(t);
  const dir = tempDir(t);
  const p1 = await reg.open('stream', 'p1', { pstream: `punix:${join(dir, 'p1.sock')}`, ...options }) as StreamNetdev;
  const p2 = await reg.open('stream', 'p2', { pstream: `punix:${join(dir, 'p2.sock')}`, ...options }) as StreamNetdev;
  p1.onReceive = (frame) => p2.send(frame);
  p2.onReceive = (frame) => p1.send(frame);
  return { reg, dir, p1, p2 };
}

t.test('Internet checksum: the published IPv4 header example', async (t) => {
  const header = Buffer.from('450000730000400040110000c0a80001c0a800c7', 'hex');
  t.equal(internetChecksum(header), 0xb861, 'RFC 1071 sum of the Wikipedia example header');
  header.writeUInt16BE(0xb861, 10);
  t.equal(internetChecksum(header), 0, 'a header with its checksum sums to zero');
  t.equal(internetChecksum(Buffer.from([0x01])), 0xfeff, 'an odd byte is padded on the right');
  const packet = ipv4Packet('10.0.0.1', '10.0.0.2', IP_PROTO_ICMP, icmpEcho(ICMP_ECHO_REQUEST, 0x1234, 1, Buffer.from('abcdefgh')));
  const parsed = parseFrame(ethernetFrame('02:00:00:00:00:02', '02:00:00:00:00:01', ETH_TYPE_IPV4, packet))!;
  t.ok(parsed.ipv4!.checksumOk && parsed.icmp!.checksumOk, 'built packets carry valid checksums');
  t.same([parsed.icmp!.type, parsed.icmp!.id, parsed.icmp!.seq, parsed.icmp!.data.toString()], [8, 0x1234, 1, 'abcdefgh']);
});

t.test('two hosts ping each other across two stream ports (padded frames)', async (t) => {
  const { dir, p1, p2 } = await wire(t);
  const h1 = await host(t, 'connect', join(dir, 'p1.sock'), '02:00:00:00:01:01', '10.0.0.1');
  const h2 = await host(t, 'connect', join(dir, 'p2.sock'), '02:00:00:00:01:02', '10.0.0.2');
  await waitFor(() => p1.peerCount === 1 && p2.peerCount === 1, 2000, 'hosts attached');
  const rtt = await h1.ping('10.0.0.2', { timeoutMs: 2000 });
  t.ok(rtt >= 0 && rtt < 2000, `h1 -> h2: ${rtt.toFixed(2)} ms`);
  t.same(h2.answered, { arp: 1, echo: 1 }, 'h2 answered one ARP request and one echo request');
  t.equal(h1.arpCache.get('10.0.0.2'), '02:00:00:00:01:02', 'h1 learned h2\'s MAC');
  t.equal(h2.arpCache.get('10.0.0.1'), '02:00:00:00:01:01', 'h2 learned h1\'s MAC from the request');
  const arpReply = h1.received.find((f) => parseFrame(f)?.arp?.op === ARP_OP_REPLY)!;
  t.equal(arpReply.length, 60, 'the 42-byte ARP reply arrived padded to 60 by the stream port');
  await h2.ping('10.0.0.1', { timeoutMs: 2000 });
  t.same(h1.answered, { arp: 0, echo: 1 }, 'h2 -> h1: no ARP needed, the echo answered');
  for (let i = 0; i < 5; i++) await h1.ping('10.0.0.2', { timeoutMs: 2000, payloadLength: 1000 + i });
  t.equal(h2.answered.echo, 6, 'five more pings with larger payloads');

  if (!existsSync(TSHARK)) {
    t.comment(`skipping the tshark checksum check: no ${TSHARK}`);
    return;
  }
  const frames = [...h1.sent, ...h2.sent];
  const path = join(tempDir(t), 'ping.pcap');
  writeFileSync(path, writePcap(frames.map((data, i) => ({ timestampUs: 1_700_000_000_000_000 + i, data }))));
  const run = spawnSync(TSHARK, ['-r', path, '-o', 'ip.check_checksum:TRUE', '-V'], { encoding: 'utf8', timeout: 30_000 });
  t.equal(run.status, 0, `tshark ran ${run.stderr}`);
  const count = (needle: string): number => run.stdout.split(needle).length - 1;
  t.equal(count('Address Resolution Protocol (request)'), 1, 'tshark: one ARP request');
  t.equal(count('Address Resolution Protocol (reply)'), 1, 'tshark: one ARP reply');
  t.equal(count('[Header checksum status: Good]'), 14, 'tshark: every IPv4 header checksum good (7 requests, 7 replies)');
  t.equal(count('[Checksum Status: Good]'), 14, 'tshark: every ICMP checksum good');
  t.equal(count('Bad'), 0, 'tshark: nothing bad');
});

t.test('a host listening for a port that connects to it', async (t) => {
  const reg = registry(t);
  const dir = tempDir(t);
  const h1 = await host(t, 'listen', join(dir, 'h1.sock'), '02:00:00:00:02:01', '10.0.1.1');
  const h2 = await host(t, 'connect', join(dir, 'p2.sock'), '02:00:00:00:02:02', '10.0.1.2').catch(() => undefined);
  t.equal(h2, undefined, 'connecting to a socket nobody listens on fails');
  const p1 = await reg.open('stream', 'p1', { stream: `unix:${join(dir, 'h1.sock')}` }) as StreamNetdev;
  const p2 = await reg.open('stream', 'p2', { pstream: `punix:${join(dir, 'p2.sock')}` }) as StreamNetdev;
  p1.onReceive = (frame) => p2.send(frame);
  p2.onReceive = (frame) => p1.send(frame);
  const h2b = await host(t, 'connect', join(dir, 'p2.sock'), '02:00:00:00:02:02', '10.0.1.2');
  await h1.waitConnected(3000);
  await waitFor(() => p2.peerCount === 1, 2000, 'h2 attached');
  await h2b.ping('10.0.1.1', { timeoutMs: 2000 });
  t.pass('h2 pings h1, whose port connected to it');
  await h1.close();
  t.notOk(existsSync(join(dir, 'h1.sock')), 'the listening host removes its socket on close');
});

t.test('host behaviour: ignores what is not for it, records everything, times out cleanly', async (t) => {
  const { dir, p1, p2 } = await wire(t, { pad: 'false' });
  const h1 = await host(t, 'connect', join(dir, 'p1.sock'), '02:00:00:00:03:01', '10.0.2.1');
  const h2 = await host(t, 'connect', join(dir, 'p2.sock'), '02:00:00:00:03:02', '10.0.2.2');
  await waitFor(() => p1.peerCount === 1 && p2.peerCount === 1, 2000, 'hosts attached');
  // ARP for someone else, an echo request with a bad checksum, an echo to another MAC.
  h1.send(arpFrame(BROADCAST_MAC, h1.mac, { op: 1, sha: h1.mac, spa: h1.ip, tha: '00:00:00:00:00:00', tpa: '10.0.2.99' }));
  const bad = ipv4Packet(h1.ip, h2.ip, IP_PROTO_ICMP, icmpEcho(ICMP_ECHO_REQUEST, 1, 1, Buffer.alloc(8)));
  bad[bad.length - 1] ^= 0xff;
  h1.send(ethernetFrame(h2.mac, h1.mac, ETH_TYPE_IPV4, bad));
  h1.send(ethernetFrame('02:00:00:00:03:99', h1.mac, ETH_TYPE_IPV4, ipv4Packet(h1.ip, h2.ip, IP_PROTO_ICMP, icmpEcho(ICMP_ECHO_REQUEST, 1, 2, Buffer.alloc(8)))));
  await h2.waitFor(() => h2.received.length === 3, 2000);
  t.same(h2.answered, { arp: 0, echo: 0 }, 'none of them answered');
  t.same(h2.received.map((f) => f.length), [42, 50, 50], 'all three recorded as they arrived (pad=false: unpadded)');
  const since = h1.mark();
  const error = await h1.ping('10.0.2.99', { timeoutMs: 300 }).catch((e: Error) => e);
  t.match((error as Error).message, /^10\.0\.2\.1: ARP for 10\.0\.2\.99: no reply within 300 ms$/, 'ping of a missing host rejects after its timeout');
  t.equal(h1.received.length, since, 'nothing came back');
  const pending = h1.waitFor(() => false, 10_000).then(() => 'resolved', (e: Error) => e.message);
  await h1.close();
  t.equal(await pending, '10.0.2.1: closed', 'close() rejects pending waits');
  t.equal(h1.connections, 0, 'close() closed the socket');
  await waitFor(() => p1.peerCount === 0, 2000, 'the port to see the host go');
});
