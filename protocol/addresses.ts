/*
 * Text forms of link and network addresses as they appear in decoded OXM values:
 * MAC "00:1a:2b:3c:4d:5e" (lower case), IPv4 dotted quad, IPv6 in RFC 5952 canonical form.
 * Parsing accepts any valid spelling; formatting always gives the canonical one, so a
 * decoded value encodes back to the same bytes.
 */
import { isIPv4, isIPv6 } from 'node:net';

const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function formatMac(buf: Uint8Array, off: number): string {
  return `${HEX_BYTE[buf[off]!]}:${HEX_BYTE[buf[off + 1]!]}:${HEX_BYTE[buf[off + 2]!]}:` +
    `${HEX_BYTE[buf[off + 3]!]}:${HEX_BYTE[buf[off + 4]!]}:${HEX_BYTE[buf[off + 5]!]}`;
}

const MAC_RE = /^[0-9a-fA-F]{1,2}(?::[0-9a-fA-F]{1,2}){5}$/;

export function isMac(text: string): boolean {
  return MAC_RE.test(text);
}

/** The value of hex digit `c` (a char code), or -1. */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const lower = c | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}

/** Writes the 6 bytes of `text` at `out[off]`; throws RangeError on a malformed address. */
export function writeMac(text: string, out: Uint8Array, off: number): void {
  // The canonical "xx:xx:xx:xx:xx:xx" without a regular expression: encoders write one per
  // MAC in every flow of a dump.
  if (text.length === 17) {
    let ok = true;
    for (let i = 0; i < 6 && ok; i++) {
      const hi = hexDigit(text.charCodeAt(3 * i));
      const lo = hexDigit(text.charCodeAt(3 * i + 1));
      ok = hi >= 0 && lo >= 0 && (i === 5 || text.charCodeAt(3 * i + 2) === 58);
      out[off + i] = (hi << 4) | lo;
    }
    if (ok) return;
  }
  if (!MAC_RE.test(text)) throw new RangeError(`bad MAC address "${text}"`);
  const parts = text.split(':');
  for (let i = 0; i < 6; i++) out[off + i] = parseInt(parts[i]!, 16);
}

export function formatIpv4(buf: Uint8Array, off: number): string {
  return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
}

export function writeIpv4(text: string, out: Uint8Array, off: number): void {
  if (!isIPv4(text)) throw new RangeError(`bad IPv4 address "${text}"`);
  const parts = text.split('.');
  for (let i = 0; i < 4; i++) out[off + i] = Number(parts[i]);
}

export function formatIpv6(buf: Uint8Array, off: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((buf[off + 2 * i]! << 8) | buf[off + 2 * i + 1]!);
  // RFC 5952: compress the longest run (leftmost on ties) of two or more zero groups.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = (g: number[]): string => g.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

export function writeIpv6(text: string, out: Uint8Array, off: number): void {
  if (!isIPv6(text)) throw new RangeError(`bad IPv6 address "${text}"`);
  let head = text;
  let tailV4: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    // Embedded IPv4 in the last 32 bits ("::ffff:1.2.3.4").
    tailV4 = text.slice(lastColon + 1).split('.').map(Number);
    head = text.slice(0, lastColon + 1) + '0:0';
  }
  const [left, right] = head.includes('::') ? head.split('::') as [string, string] : [head, undefined];
  const leftGroups = left ? left.split(':') : [];
  const rightGroups = right === undefined ? [] : right ? right.split(':') : [];
  const zeros = 8 - leftGroups.length - rightGroups.length;
  const groups = [...leftGroups, ...Array<string>(right === undefined ? 0 : zeros).fill('0'), ...rightGroups];
  for (let i = 0; i < 8; i++) {
    const g = parseInt(groups[i]!, 16);
    out[off + 2 * i] = g >> 8;
    out[off + 2 * i + 1] = g & 0xff;
  }
  if (tailV4.length === 4) for (let i = 0; i < 4; i++) out[off + 12 + i] = tailV4[i]!;
}
