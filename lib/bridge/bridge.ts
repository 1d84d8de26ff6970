/*
 * A bridge: one OpenFlow switch (ofproto) with its connection manager, its management
 * service `punix:<rundir>/<name>.mgmt` (the socket ovs-ofctl talks to), its part of the
 * process's datapath, and its ports with the devices behind them. The configuration database
 * that will create and reconfigure bridges builds on this (see the project's issues); for now
 * the daemon creates one bridge from its command line.
 *
 * A port whose device cannot be opened is kept, without a device, and the error logged: the
 * rest of the bridge works (as Open vSwitch records the error on the Interface row).
 */
import { join } from 'node:path';
import { ConnectionManager, type ConnmgrOptions, type ControllerConfig } from '../connmgr/index.ts';
import { Datapath, type DpBridge } from '../datapath/index.ts';
import { type Netdev, openNetdev } from '../netdev/index.ts';
import { Ofproto, type OfprotoOptions } from '../ofproto/index.ts';
import { Vlog } from '../util/vlog.ts';

const log = new Vlog('bridge');

/** Names that cannot be bridge names: they would escape the run directory. */
export function isValidBridgeName(name: string): boolean {
  return /^[^/\\\0]+$/.test(name) && name !== '.' && name !== '..' && name.length <= 15;
}

/**
 * A port to create: its name, the OpenFlow port number it requests, and its device: a type
 * (`stream`, `internal`, `patch`) and options (`pstream`, `stream`, `peer`). Without a type
 * or options the port has no device (it carries no frames).
 */
export interface PortRequest {
  name: string;
  ofport?: number;
  type?: string;
  options?: Record<string, string>;
}

/** Interface types as Open vSwitch names them, mapped to ofswitch's netdev providers. */
const NETDEV_TYPE_ALIASES: Record<string, string> = { dummy: 'stream', 'dummy-internal': 'internal' };

let processDatapath: Datapath | undefined;
/** The one datapath of the process, shared by its bridges. */
export function defaultDatapath(): Datapath {
  processDatapath ??= new Datapath();
  return processDatapath;
}

export class Bridge {
  readonly ofproto: Ofproto;
  readonly connmgr: ConnectionManager;
  readonly dp: DpBridge;
  readonly netdevs = new Map<number, Netdev>();
  /** Ports added by configuration, with a signature of their settings (the reconciler's bookkeeping). */
  readonly portSignatures = new Map<string, string>();

  private constructor(
    readonly name: string, readonly rundir: string, options: OfprotoOptions, private readonly datapath: Datapath,
    connmgrOptions: ConnmgrOptions,
  ) {
    this.ofproto = new Ofproto(name, options);
    this.connmgr = new ConnectionManager(name, {
      handleMessage: (conn, message, raw) => this.ofproto.handleMessage(conn, message, raw),
      setFailOpen: (on) => this.ofproto.setFailOpen(on),
      flushFlows: (addNormal) => this.ofproto.flushFlows(addNormal),
    }, connmgrOptions);
    this.ofproto.start((kind, reason, message, exclude) => this.connmgr.sendAsync(kind, reason, message, exclude));
    this.dp = datapath.addBridge(name, this.ofproto);
    this.ofproto.attachDatapath(this.dp);
  }

  get mgmtPath(): string {
    return join(this.rundir, `${this.name}.mgmt`);
  }

  get snoopPath(): string {
    return join(this.rundir, `${this.name}.snoop`);
  }

  static async create(
    name: string, rundir: string, options: OfprotoOptions = {}, ports: PortRequest[] = [], datapath = defaultDatapath(),
    control: ConnmgrOptions & { controllers?: ControllerConfig[] } = {},
  ): Promise<Bridge> {
    if (!isValidBridgeName(name)) throw new Error(`${name}: invalid bridge name`);
    const bridge = new Bridge(name, rundir, options, datapath, control);
    // Ports that request a number first, then the rest, as Open vSwitch's bridge does.
    for (const p of [...ports.filter((p) => p.ofport !== undefined), ...ports.filter((p) => p.ofport === undefined)]) {
      await bridge.addPort(p);
    }
    await bridge.connmgr.addService(`punix:${bridge.mgmtPath}`, 'service');
    await bridge.connmgr.addService(`punix:${bridge.snoopPath}`, 'snoop');
    await bridge.connmgr.setControllers(control.controllers ?? []);
    return bridge;
  }

  /**
   * Adds a port and opens its device. With `required`, a device that fails to open means no
   * port (the error is returned, for the Interface row); otherwise the port stays without one.
   */
  async addPort(request: PortRequest, required = false): Promise<{ portNo?: number; error?: string }> {
    let netdev: Netdev | undefined;
    if (request.type || request.options) {
      try {
        netdev = await openNetdev(NETDEV_TYPE_ALIASES[request.type ?? ''] ?? request.type ?? 'stream', request.name, request.options ?? {});
      } catch (e) {
        const error = `could not open network device ${request.name} (${(e as Error).message})`;
        log.warn(`${this.name}: ${error}`);
        if (required) return { error };
      }
    }
    const port = this.ofproto.addPort(request.name, request.ofport, netdev?.hwAddr);
    this.ofproto.announcePort(port.portNo);
    if (!netdev) return { portNo: port.portNo };
    this.netdevs.set(port.portNo, netdev);
    this.ofproto.portDevices.set(port.portNo, netdev);
    this.dp.addPort(port.portNo, netdev);
    this.ofproto.setPortCarrier(port.portNo, netdev.carrier);
    netdev.onCarrierChange = (up) => this.ofproto.setPortCarrier(port.portNo, up);
    return { portNo: port.portNo };
  }

  /** Removes a port by name and closes its device. */
  async removePort(name: string): Promise<void> {
    const port = [...this.ofproto.ports.values()].find((p) => p.name === name);
    if (!port) return;
    this.dp.removePort(port.portNo);
    this.ofproto.removePort(port.portNo);
    const netdev = this.netdevs.get(port.portNo);
    this.netdevs.delete(port.portNo);
    await netdev?.close();
  }

  async close(): Promise<void> {
    this.ofproto.stop();
    this.datapath.removeBridge(this.name);
    await Promise.all([...this.netdevs.values()].map((n) => n.close()));
    await this.connmgr.close();
  }
}
