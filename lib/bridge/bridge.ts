/*
 * A bridge: one OpenFlow switch (ofproto) with its connection manager and its management
 * service `punix:<rundir>/<name>.mgmt`, the socket ovs-ofctl talks to. The configuration
 * database that will create and reconfigure bridges builds on this (see the project's
 * issues); for now the daemon creates one bridge from its command line.
 */
import { join } from 'node:path';
import { ConnectionManager } from '../connmgr/index.ts';
import { Ofproto, type OfprotoOptions } from '../ofproto/index.ts';

/** Names that cannot be bridge names: they would escape the run directory. */
export function isValidBridgeName(name: string): boolean {
  return /^[^/\\\0]+$/.test(name) && name !== '.' && name !== '..' && name.length <= 15;
}

/** A port to create: its name and the OpenFlow port number it requests, if any. */
export interface PortRequest {
  name: string;
  ofport?: number;
}

export class Bridge {
  readonly ofproto: Ofproto;
  readonly connmgr: ConnectionManager;

  private constructor(readonly name: string, readonly rundir: string, options: OfprotoOptions) {
    this.ofproto = new Ofproto(name, options);
    this.connmgr = new ConnectionManager(name, {
      handleMessage: (conn, message, raw) => this.ofproto.handleMessage(conn, message, raw),
    });
    this.ofproto.start((kind, reason, message, exclude) => this.connmgr.sendAsync(kind, reason, message, exclude));
  }

  get mgmtPath(): string {
    return join(this.rundir, `${this.name}.mgmt`);
  }

  static async create(name: string, rundir: string, options: OfprotoOptions = {}, ports: PortRequest[] = []): Promise<Bridge> {
    if (!isValidBridgeName(name)) throw new Error(`${name}: invalid bridge name`);
    const bridge = new Bridge(name, rundir, options);
    // Ports that request a number first, then the rest, as Open vSwitch's bridge does.
    for (const p of ports.filter((p) => p.ofport !== undefined)) bridge.ofproto.addPort(p.name, p.ofport);
    for (const p of ports.filter((p) => p.ofport === undefined)) bridge.ofproto.addPort(p.name);
    await bridge.connmgr.addService(`punix:${bridge.mgmtPath}`, 'service');
    return bridge;
  }

  async close(): Promise<void> {
    this.ofproto.stop();
    await this.connmgr.close();
  }
}
