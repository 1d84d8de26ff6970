/*
 * OpenFlow over TLS between ofswitchd (`--controller=ssl:127.0.0.1:PORT --private-key=...
 * --certificate=... --ca-cert=...`) and a real os-ken listening with
 * `osken-manager --ofp-ssl-listen-port PORT --ctl-privkey KEY --ctl-cert CERT --ca-certs CA`
 * (os-ken then requires the switch's certificate, CERT_REQUIRED).
 *
 * Certificates are made here with openssl (EC P-256, SHA-256): CA 1 signs the switch's
 * certificate and a controller certificate; CA 2, unrelated, signs a second controller
 * certificate and a second switch certificate.
 *
 * What it shows:
 *  - os-ken with CA 1's controller certificate, trusting CA 1: ofswitchd connects, the
 *    handshake completes (os-ken sees the switch's features), os-ken configures the switch
 *    (test/oracles/learning_switch.py) and two hosts on stream ports ping through it
 *    (packet-ins and packet-outs over TLS); connmgr/show: connected;
 *  - os-ken whose certificate is signed by CA 2: ofswitchd refuses it (the TLS handshake
 *    fails on certificate verification), os-ken never sees a switch, and connmgr/show reports
 *    not connected, with a certificate error as the last error; it keeps retrying (backoff);
 *  - the other way round: a switch whose certificate is signed by CA 2 is refused by os-ken
 *    (trusting CA 1 only; it logs CERTIFICATE_VERIFY_FAILED); connmgr/show: not connected,
 *    with an error (with TLS 1.3 the client learns of it as the peer closing).
 *
 * Bounded: the file has a time limit and every wait has its own; os-ken and ofswitchd are
 * stopped by pid, every socket closed in teardown. Times are milliseconds.
 */
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connmgrShow, type ControllerInfo } from '../helpers/appctl.ts';
import { freePort } from '../helpers/controller.ts';
import { SimHost } from '../helpers/host.ts';
import { startOfswitchd, waitFor } from '../helpers/ofswitchd.ts';
import { oskenMissing, startOsken } from '../helpers/osken.ts';

const OPENSSL = '/usr/bin/openssl';
const APP = fileURLToPath(new URL('../oracles/learning_switch.py', import.meta.url));

t.setTimeout(120_000);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function openssl(dir: string, args: string[]): void {
  const r = spawnSync(OPENSSL, args, { cwd: dir, encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

interface Pki {
  dir: string;
  ca1: string;
  ca2: string;
  /** Key and certificate pairs. */
  switch1: { key: string; cert: string };
  switch2: { key: string; cert: string };
  controller1: { key: string; cert: string };
  controller2: { key: string; cert: string };
}

function makePki(dir: string): Pki {
  const key = (name: string): string => {
    openssl(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}-key.pem`]);
    return join(dir, `${name}-key.pem`);
  };
  const ca = (name: string): string => {
    key(name);
    openssl(dir, ['req', '-x509', '-new', '-key', `${name}-key.pem`, '-sha256', '-days', '2', '-subj', `/O=ofswitch test/CN=${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', `${name}-cert.pem`]);
    return join(dir, `${name}-cert.pem`);
  };
  writeFileSync(join(dir, 'leaf.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1\n');
  const leaf = (name: string, caName: string): { key: string; cert: string } => {
    const k = key(name);
    openssl(dir, ['req', '-new', '-key', `${name}-key.pem`, '-subj', `/O=ofswitch test/CN=${name}`, '-out', `${name}.csr`]);
    openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}-cert.pem`, '-CAkey', `${caName}-key.pem`, '-CAcreateserial',
      '-sha256', '-days', '2', '-extfile', 'leaf.ext', '-out', `${name}-cert.pem`]);
    return { key: k, cert: join(dir, `${name}-cert.pem`) };
  };
  const ca1 = ca('ca1');
  const ca2 = ca('ca2');
  return {
    dir, ca1, ca2,
    switch1: leaf('switch1', 'ca1'), controller1: leaf('controller1', 'ca1'),
    switch2: leaf('switch2', 'ca2'), controller2: leaf('controller2', 'ca2'),
  };
}

const skip = oskenMissing() || (existsSync(OPENSSL) ? false : `${OPENSSL} not found`);

let pki: Pki | undefined;
function getPki(t: Test): Pki {
  if (!pki) {
    const dir = mkdtempSync(join(tmpdir(), 'ofs-pki-'));
    t.teardown(() => { rmSync(dir, { recursive: true, force: true }); pki = undefined; });
    pki = makePki(dir);
  }
  return pki;
}

function switchTls(p: Pki, which: 'switch1' | 'switch2'): string[] {
  return [`--private-key=${p[which].key}`, `--certificate=${p[which].cert}`, `--ca-cert=${p.ca1}`];
}

/** connmgr/show's controller `target` once it has tried at least twice and failed (or after the timeout). */
async function failedController(rundir: string, target: string, timeoutMs: number): Promise<ControllerInfo | undefined> {
  let found: ControllerInfo | undefined;
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    found = (await connmgrShow(rundir)).controllers.find((c) => c.target === target);
    if (found?.lastError && (found.backoffMs ?? 0) >= 2000) break;
    await sleep(200);
  }
  return found;
}

t.test('TLS', { skip }, async (t) => {
  const p = getPki(t);
  const verify = spawnSync(OPENSSL, ['verify', '-CAfile', p.ca1, p.switch1.cert, p.controller1.cert], { encoding: 'utf8' });
  t.equal(verify.status, 0, 'openssl: CA 1 signed the switch and controller 1 certificates');
  const crossed = spawnSync(OPENSSL, ['verify', '-CAfile', p.ca1, p.controller2.cert], { encoding: 'utf8' });
  t.not(crossed.status, 0, 'openssl: controller 2\'s certificate does not verify against CA 1');

  t.test('os-ken with a certificate from the same CA: connected, and hosts ping through it', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'ofs-tls-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const port = await freePort();
    const osken = startOsken({ app: APP, port, ssl: { privateKey: p.controller1.key, certificate: p.controller1.cert, caCerts: p.ca1 } });
    t.teardown(() => osken.stop());
    await osken.waitListening(20_000);
    const target = `ssl:127.0.0.1:${port}`;
    const daemon = await startOfswitchd([`--controller=${target}`, ...switchTls(p, 'switch1'),
      ...[1, 2].map((n) => `--port=p${n}:${n},pstream=punix:${join(dir, `p${n}.sock`)}`)]);
    t.teardown(() => daemon.stop());
    const hosts = [
      await SimHost.connect(join(dir, 'p1.sock'), { mac: '02:00:00:00:00:01', ip: '10.0.0.1', name: 'h1' }),
      await SimHost.connect(join(dir, 'p2.sock'), { mac: '02:00:00:00:00:02', ip: '10.0.0.2', name: 'h2' }),
    ] as const;
    t.teardown(() => Promise.all(hosts.map((h) => h.close())));
    try {
      await osken.waitLine(/^FEATURES dpid=[0-9a-f]{16} n_buffers=256$/, 15_000);
      await osken.waitLine(/^BARRIER_REPLY /, 10_000);
    } catch (e) {
      t.fail(`no OpenFlow over TLS: ${(e as Error).message}`, { connmgr: await connmgrShow(daemon.rundir).catch(() => null), ofswitchd: daemon.output() });
      return;
    }
    t.pass('TLS handshake both ways, then OpenFlow: os-ken saw the switch and configured it');
    await t.resolves(hosts[0].ping(hosts[1].ip, { timeoutMs: 3000 }), 'h1 pings h2 (packet-ins and packet-outs over TLS)');
    await t.resolves(hosts[1].ping(hosts[0].ip, { timeoutMs: 3000 }), 'h2 pings h1');
    t.ok(osken.lines.filter((l) => l.startsWith('PACKET_IN ')).length >= 3, 'os-ken logged the packet-ins');
    const info = (await connmgrShow(daemon.rundir)).controllers.find((c) => c.target === target);
    t.match(info, { isConnected: true, connections: 1 }, `connmgr/show: ${target} connected`);
  });

  t.test('os-ken with a certificate signed by another CA: refused by the switch', async (t) => {
    const port = await freePort();
    const osken = startOsken({ app: APP, port, ssl: { privateKey: p.controller2.key, certificate: p.controller2.cert, caCerts: p.ca1 } });
    t.teardown(() => osken.stop());
    await osken.waitListening(20_000);
    const target = `ssl:127.0.0.1:${port}`;
    const daemon = await startOfswitchd([`--controller=${target}`, ...switchTls(p, 'switch1'), '--port=p1:1']);
    t.teardown(() => daemon.stop());
    const info = await failedController(daemon.rundir, target, 8000);
    t.comment(`connmgr/show: ${JSON.stringify(info)}`);
    t.match(info, { isConnected: false, state: /^(BACKOFF|CONNECTING)$/ }, 'connmgr/show: not connected');
    t.match(info?.lastError ?? '', /certificate|issuer|verify/i, `connmgr/show: last error names the certificate problem ("${info?.lastError}")`);
    t.ok((info?.backoffMs ?? 0) >= 2000, 'and the switch keeps retrying with a growing backoff');
    t.equal(info?.connections ?? 0, 0, 'no connection ever completed');
    t.notOk(osken.lines.some((l) => l.startsWith('FEATURES ')), 'os-ken never saw a switch');
  });

  t.test('a switch whose certificate is signed by another CA: refused by os-ken', async (t) => {
    const port = await freePort();
    const osken = startOsken({ app: APP, port, ssl: { privateKey: p.controller1.key, certificate: p.controller1.cert, caCerts: p.ca1 } });
    t.teardown(() => osken.stop());
    await osken.waitListening(20_000);
    const target = `ssl:127.0.0.1:${port}`;
    const daemon = await startOfswitchd([`--controller=${target}`, ...switchTls(p, 'switch2'), '--port=p1:1']);
    t.teardown(() => daemon.stop());
    const info = await failedController(daemon.rundir, target, 8000);
    t.comment(`connmgr/show: ${JSON.stringify(info)}`);
    t.match(info, { isConnected: false, lastError: String }, 'connmgr/show: not connected, with an error');
    t.equal(info?.connections ?? 0, 0, 'no connection ever completed');
    t.notOk(osken.lines.some((l) => l.startsWith('FEATURES ')), 'os-ken never saw a switch');
    await waitFor(() => /CERTIFICATE_VERIFY_FAILED/.test(osken.output()), 3000, 'os-ken to log the refusal').catch(() => undefined);
    t.match(osken.output(), /SSLCertVerificationError: \[SSL: CERTIFICATE_VERIFY_FAILED\]/, "os-ken logged its refusal: the switch's certificate failed verification");
  });
});
