/**
 * Helpers for the lib/packet tests: flow keys as readable records, expected keys from field
 * values, and the two outside oracles (os-ken's packet library and tshark's checksum checks).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type OxmFieldName, oxmValueBytes, oxmValueFromBytes } from '../../protocol/index.ts';
import { writePcap } from '../../protocol/pcap.ts';
import { FIELD_SLOTS, fieldSlot, FLOW_KEY_BYTES, MPLS_TTL_OFFSET, NW_FRAG_OFFSET, NW_TTL_OFFSET, VLAN_COUNT_OFFSET } from '../../lib/packet/index.ts';

export const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(HERE, '../..');
export const PYTHON = '/usr/bin/python3';
export const TSHARK = '/usr/bin/tshark';

export type FieldValues = Partial<Record<OxmFieldName, number | string>>;

/** The non-zero fields of a key, typed as the codec types them (addresses as text). */
export function keyFields(key: Uint8Array): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const slot of FIELD_SLOTS) {
    if (!key.subarray(slot.offset, slot.offset + slot.bytes).some((b) => b !== 0)) continue;
    const v = oxmValueFromBytes(slot.name, key, slot.offset);
    out[slot.name] = typeof v === 'bigint' ? v.toString() : v;
  }
  if (key[NW_TTL_OFFSET] !== 0) out.nw_ttl = key[NW_TTL_OFFSET]!;
  if (key[MPLS_TTL_OFFSET] !== 0) out.mpls_ttl = key[MPLS_TTL_OFFSET]!;
  if (key[NW_FRAG_OFFSET] !== 0) out.nw_frag = key[NW_FRAG_OFFSET]!;
  if (key[VLAN_COUNT_OFFSET] !== 0) out.vlan_count = key[VLAN_COUNT_OFFSET]!;
  return out;
}

/** The key a packet with exactly these field values (others zero) has. */
export function expectedKey(fields: FieldValues, nwTtl = 0, mplsTtl = 0, nwFrag = 0, vlanCount = 0): Uint8Array {
  const key = new Uint8Array(FLOW_KEY_BYTES);
  for (const [name, value] of Object.entries(fields) as [OxmFieldName, number | string][]) {
    key.set(oxmValueBytes(name, value), fieldSlot(name).offset);
  }
  key[NW_TTL_OFFSET] = nwTtl;
  key[MPLS_TTL_OFFSET] = mplsTtl;
  key[NW_FRAG_OFFSET] = nwFrag;
  key[VLAN_COUNT_OFFSET] = vlanCount;
  return key;
}

/** The VLAN tags (802.1Q or 802.1ad TPIDs) at the front of a frame, each with its 4 bytes and a type after it. */
export function vlanTags(frame: Uint8Array): number {
  let n = 0;
  for (let at = 12; frame.length - at >= 6; at += 4) {
    const tpid = (frame[at]! << 8) | frame[at + 1]!;
    if (tpid !== 0x8100 && tpid !== 0x88a8) break;
    n++;
  }
  return n;
}

/** The OXM wire form of a value, as set-field actions carry it. */
export function wire(name: OxmFieldName, value: number | string | bigint): Uint8Array {
  return oxmValueBytes(name, value);
}

/** Why os-ken cannot be used here, or false when it can. */
export function oskenUnavailable(): string | false {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  const probe = spawnSync(PYTHON, ['-c', 'import os_ken.lib.packet.packet'], { encoding: 'utf8', timeout: 60000 });
  if (probe.error) return `${PYTHON} did not run: ${probe.error.message}`;
  if (probe.status !== 0) return `${PYTHON} lacks os_ken (install python3-os-ken)`;
  return false;
}

/** Runs a Python script of this folder and returns its stdout; `input` goes to its stdin. */
export function runPython(script: string, input = ''): string {
  const run = spawnSync(PYTHON, [join(HERE, script)], { input, encoding: 'utf8', timeout: 120000, maxBuffer: 64 << 20 });
  if (run.status !== 0) throw new Error(`${script} failed: ${run.stderr}`);
  return run.stdout;
}

export const TSHARK_UNAVAILABLE: string | false = existsSync(TSHARK) ? false : `${TSHARK} not found`;

export interface ChecksumStatus {
  ip: string;
  tcp: string;
  udp: string;
  icmp: string;
  icmpv6: string;
  sctp: string;
}

/**
 * tshark's verdict on every checksum of each frame ("1" good, "0" bad, "2" unverified, ""
 * no such header; comma-separated when a header occurs twice, as in an ICMP error quoting an
 * IP header), with IPv4/TCP/UDP validation and SCTP CRC32c checking switched on.
 */
export function tsharkChecksums(frames: Buffer[]): ChecksumStatus[] {
  const dir = mkdtempSync(join(tmpdir(), 'ofs-packet-'));
  try {
    const file = join(dir, 'frames.pcap');
    writeFileSync(file, writePcap(frames.map((data, i) => ({ timestampUs: i, data }))));
    const run = spawnSync(TSHARK, [
      '-r', file, '-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE',
      '-o', 'sctp.checksum:CRC-32C', '-T', 'fields',
      '-e', 'frame.number', '-e', 'ip.checksum.status', '-e', 'tcp.checksum.status', '-e', 'udp.checksum.status',
      '-e', 'icmp.checksum.status', '-e', 'icmpv6.checksum.status', '-e', 'sctp.checksum.status',
    ], { encoding: 'utf8', timeout: 120000, maxBuffer: 64 << 20 });
    if (run.status !== 0) throw new Error(`tshark failed: ${run.stderr}`);
    const lines = run.stdout.split('\n').filter((l) => l.length > 0);
    return lines.map((line) => {
      const [, ip = '', tcp = '', udp = '', icmp = '', icmpv6 = '', sctp = ''] = line.split('\t');
      return { ip, tcp, udp, icmp, icmpv6, sctp };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
