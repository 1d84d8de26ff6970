/*
 * Opening OpenFlow transports (Open vSwitch's vconn/pvconn stream layer): active `tcp:`,
 * `unix:` and `ssl:` connections, and the TLS settings for `ssl:`/`pssl:`. A TLS peer's
 * certificate must be signed by the configured CA; as in Open vSwitch, the peer's name is not
 * checked against the certificate (controllers are addressed by IP).
 */
import { connect as netConnect, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { connect as tlsConnect, type SecureContextOptions } from 'node:tls';
import type { Target } from '../util/target.ts';

export interface TlsSettings {
  privateKeyFile: string;
  certificateFile: string;
  caCertFile: string;
}

export class VconnError extends Error {
  override readonly name = 'VconnError';
}

export function tlsContext(settings: TlsSettings | undefined, target: string): SecureContextOptions {
  if (!settings) throw new VconnError(`${target}: SSL needs a private key, a certificate and a CA certificate`);
  try {
    return {
      key: readFileSync(settings.privateKeyFile), cert: readFileSync(settings.certificateFile),
      ca: readFileSync(settings.caCertFile),
    };
  } catch (e) {
    throw new VconnError(`${target}: ${(e as Error).message}`);
  }
}

/** Connects to an active target; resolves once the stream (and TLS handshake) is up. */
export function openActive(target: Extract<Target, { kind: 'tcp' | 'unix' | 'ssl' }>, name: string, tls?: TlsSettings): Promise<Socket> {
  return new Promise((resolve, reject) => {
    let socket: Socket;
    if (target.kind === 'unix') {
      socket = netConnect({ path: target.path }, () => done());
    } else if (target.kind === 'tcp') {
      socket = netConnect({ host: target.host, port: target.port, noDelay: true }, () => done());
    } else {
      let context: SecureContextOptions;
      try {
        context = tlsContext(tls, name);
      } catch (e) {
        reject(e);
        return;
      }
      socket = tlsConnect({
        host: target.host, port: target.port, ...context, rejectUnauthorized: true, checkServerIdentity: () => undefined,
      }, () => done());
    }
    const failed = (err: Error): void => reject(new VconnError(err.message));
    socket.once('error', failed);
    const done = (): void => {
      socket.off('error', failed);
      resolve(socket);
    };
  });
}
