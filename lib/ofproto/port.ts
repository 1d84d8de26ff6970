/*
 * An OpenFlow port of a bridge (Open vSwitch's ofport): its number, name, Ethernet address
 * and the config/state/feature bits reported in port descriptions and port status.
 */
import { createHash } from 'node:crypto';
import { formatMac, OFPP_LOCAL, OFPPS_LIVE, type Port } from '../../protocol/index.ts';

export type OfPort = Port;

/** A stable, locally administered unicast MAC derived from a name (the bridge's own address). */
export function macFromName(name: string): string {
  const digest = createHash('sha1').update(name).digest();
  digest[0] = (digest[0]! & 0xfe) | 0x02;
  return formatMac(digest, 0);
}

/** The bridge's LOCAL (internal) port: up and live, as Open vSwitch's userspace bridges report it. */
export function localPort(bridgeName: string, hwAddr: string): OfPort {
  return {
    portNo: OFPP_LOCAL, hwAddr, name: bridgeName, config: 0, state: OFPPS_LIVE,
    curr: 0, advertised: 0, supported: 0, peer: 0, currSpeed: 0, maxSpeed: 0,
  };
}

/** A port with no device behind it yet, up and live like an Open vSwitch dummy port. */
export function devicelessPort(name: string, portNo: number): OfPort {
  return {
    portNo, hwAddr: macFromName(`${name}/port`), name, config: 0, state: OFPPS_LIVE,
    curr: 0, advertised: 0, supported: 0, peer: 0, currSpeed: 0, maxSpeed: 0,
  };
}
