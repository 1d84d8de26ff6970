/*
 * Stream targets in Open vSwitch's syntax (its lib/stream.c), for OpenFlow connections and
 * stream ports alike: passive `punix:PATH`,
 * `ptcp:[PORT][:IP]` and `pssl:[PORT][:IP]` (port 6653 by default), active `unix:PATH`,
 * `tcp:IP[:PORT]` and `ssl:IP[:PORT]`.
 */
export const OFP_PORT = 6653;

export type Target =
  | { kind: 'punix'; path: string }
  | { kind: 'ptcp'; port: number; host: string }
  | { kind: 'pssl'; port: number; host: string }
  | { kind: 'unix'; path: string }
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'ssl'; host: string; port: number };

export class TargetError extends Error {
  override readonly name = 'TargetError';
}

function parsePort(text: string, target: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new TargetError(`${target}: bad port number "${text}"`);
  return port;
}

export function parseTarget(target: string): Target {
  const colon = target.indexOf(':');
  if (colon < 0) throw new TargetError(`${target}: not a connection target (expected e.g. tcp:127.0.0.1:6653)`);
  const kind = target.slice(0, colon);
  const rest = target.slice(colon + 1);
  switch (kind) {
    case 'punix': case 'unix':
      if (!rest) throw new TargetError(`${target}: missing socket path`);
      return { kind, path: rest };
    case 'ptcp': case 'pssl': {
      const [port = '', ...host] = rest.split(':');
      return { kind, port: port === '' ? OFP_PORT : parsePort(port, target), host: host.join(':') || '0.0.0.0' };
    }
    case 'tcp': case 'ssl': {
      const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
      if (bracketed) return { kind, host: bracketed[1]!, port: bracketed[2] ? parsePort(bracketed[2], target) : OFP_PORT };
      const [host = '', port] = rest.split(':');
      if (!host) throw new TargetError(`${target}: missing host`);
      return { kind, host, port: port === undefined ? OFP_PORT : parsePort(port, target) };
    }
    default:
      throw new TargetError(`${target}: unknown connection type "${kind}"`);
  }
}
