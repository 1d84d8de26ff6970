/*
 * The netdev registry: opening by type name, typed errors for unknown types and bad options
 * (a table: type, options, expected code and message), unique names, stable Ethernet addresses,
 * and the process-wide openNetdev().
 */
import t from 'tap';
import { createServer } from 'node:net';
import { join } from 'node:path';
import {
  BUILTIN_NETDEV_PROVIDERS, hwAddrForName, NetdevError, NetdevRegistry, openNetdev, netdevRegistry,
  type Netdev, type NetdevErrorCode, type NetdevProvider,
} from '../../lib/netdev/index.ts';
import { tempDir } from './util.ts';

t.test('the built-in types', async (t) => {
  t.same(new NetdevRegistry().types(), ['internal', 'patch', 'stream']);
  t.same(BUILTIN_NETDEV_PROVIDERS.map((p) => p.type), ['stream', 'internal', 'patch']);
});

t.test('bad types and options give a typed NetdevError with a clear message', async (t) => {
  const reg = new NetdevRegistry();
  t.teardown(() => reg.closeAll());
  const dir = tempDir(t);
  const cases: Array<[type: string, options: Record<string, string>, code: NetdevErrorCode, message: RegExp]> = [
    ['vxlan', {}, 'UNKNOWN_TYPE', /^x: unknown netdev type "vxlan" \(known: internal, patch, stream\)$/],
    ['stream', {}, 'BAD_OPTIONS', /needs options:pstream=punix:PATH\|ptcp:PORT\[:IP\] or options:stream=unix:PATH\|tcp:HOST:PORT/],
    ['stream', { pstream: `punix:${dir}/a`, stream: `unix:${dir}/a` }, 'BAD_OPTIONS', /both pstream .* and stream .* are configured/],
    ['internal', { pstream: `punix:${dir}/a`, stream: `unix:${dir}/a` }, 'BAD_OPTIONS', /both pstream/],
    ['stream', { pstream: 'tcp:1.2.3.4:5' }, 'BAD_OPTIONS', /options:pstream=tcp:1\.2\.3\.4:5: a listening target is punix:PATH or ptcp:PORT\[:IP\]/],
    ['stream', { stream: `punix:${dir}/a` }, 'BAD_OPTIONS', /a connecting target is unix:PATH or tcp:HOST:PORT/],
    ['stream', { stream: 'udp:1.2.3.4:5' }, 'BAD_OPTIONS', /options:stream: udp:1\.2\.3\.4:5: unknown connection type "udp"/],
    ['stream', { pstream: 'ptcp:99999' }, 'BAD_OPTIONS', /options:pstream: ptcp:99999: bad port number "99999"/],
    ['stream', { pstream: 'punix:' }, 'BAD_OPTIONS', /missing socket path/],
    ['stream', { pstream: `punix:${dir}/a`, mtu: '1500' }, 'BAD_OPTIONS', /stream netdev: unknown option mtu \(accepted: pstream, stream, carrier, pad\)/],
    ['internal', { foo: '1', bar: '2' }, 'BAD_OPTIONS', /internal netdev: unknown options foo, bar/],
    ['stream', { pstream: `punix:${dir}/a`, carrier: 'maybe' }, 'BAD_OPTIONS', /carrier must be "always" or "connected", not "maybe"/],
    ['stream', { pstream: `punix:${dir}/a`, pad: 'yes' }, 'BAD_OPTIONS', /pad must be "true" or "false", not "yes"/],
    ['patch', {}, 'BAD_OPTIONS', /^x: patch type requires valid 'peer' argument$/],
    ['patch', { peer: '' }, 'BAD_OPTIONS', /requires valid 'peer' argument/],
    ['patch', { peer: 'x' }, 'BAD_OPTIONS', /^x: patch peer must not be self$/],
    ['patch', { peer: 'y', other: '1' }, 'BAD_OPTIONS', /patch netdev: unknown option other \(accepted: peer\)/],
  ];
  for (const [type, options, code, message] of cases) {
    const error = await reg.open(type, 'x', options).then(() => undefined, (e: unknown) => e);
    const label = `${type} ${JSON.stringify(options)}`;
    if (!(error instanceof NetdevError)) {
      t.fail(`${label}: expected a NetdevError, got ${String(error)}`);
      continue;
    }
    t.equal(error.code, code, `${label}: ${code}`);
    t.match(error.message, message, `${label}: "${error.message}"`);
    t.equal(error.netdev, 'x');
  }
  t.same(reg.names(), [], 'nothing left open');
});

t.test('OPEN_FAILED when the listening address is taken', async (t) => {
  const reg = new NetdevRegistry();
  t.teardown(() => reg.closeAll());
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as { port: number }).port;
  const error = await reg.open('stream', 'p', { pstream: `ptcp:${port}:127.0.0.1` }).catch((e: unknown) => e);
  t.ok(error instanceof NetdevError && error.code === 'OPEN_FAILED', 'OPEN_FAILED');
  t.match((error as Error).message, new RegExp(`^p: ptcp:${port}:127\\.0\\.0\\.1: listen failed \\(.*EADDRINUSE`));
});

t.test('names are unique within a registry, and free again after close', async (t) => {
  const reg = new NetdevRegistry();
  t.teardown(() => reg.closeAll());
  const dir = tempDir(t);
  const first = await reg.open('stream', 'p1', { pstream: `punix:${join(dir, 'p1.sock')}` });
  const dup = await reg.open('internal', 'p1', {}).catch((e: unknown) => e);
  t.ok(dup instanceof NetdevError && dup.code === 'NAME_IN_USE', 'a second p1 is refused');
  t.match((dup as Error).message, /already open \(type stream\)/);
  const [a, b] = await Promise.allSettled([reg.open('internal', 'q', {}), reg.open('internal', 'q', {})]);
  t.equal(a.status, 'fulfilled', 'concurrent opens of one name: the first wins');
  t.ok(b.status === 'rejected' && (b.reason as NetdevError).code === 'NAME_IN_USE', 'the second is refused');
  t.equal(reg.get('p1'), first);
  await first.close();
  t.equal(reg.get('p1'), undefined, 'closed netdevs leave the registry');
  const again = await reg.open('stream', 'p1', { pstream: `punix:${join(dir, 'p1.sock')}` });
  t.not(again, first, 'the name can be opened again');
  const other = new NetdevRegistry();
  t.teardown(() => other.closeAll());
  await other.open('internal', 'p1', {});
  t.pass('another registry is another namespace');
});

t.test('Ethernet addresses: aa:55 prefix, stable per name, distinct across names', async (t) => {
  const reg = new NetdevRegistry();
  t.teardown(() => reg.closeAll());
  const a = await reg.open('internal', 'br0', {});
  t.match(a.hwAddr, /^aa:55(:[0-9a-f]{2}){4}$/);
  t.equal(a.hwAddr, hwAddrForName('br0'), 'derived from the name');
  await a.close();
  const again = await reg.open('internal', 'br0', {});
  t.equal(again.hwAddr, a.hwAddr, 'the same after reopening');
  const names = Array.from({ length: 200 }, (_, i) => `p${i}`);
  t.equal(new Set(names.map(hwAddrForName)).size, names.length, '200 names, 200 addresses');
  t.equal(parseInt(a.hwAddr.slice(0, 2), 16) & 1, 0, 'unicast');
});

t.test('openNetdev uses the process-wide registry; extra providers can be registered', async (t) => {
  const netdev = await openNetdev('internal', 'netdev-test-local', {});
  t.teardown(() => netdev.close());
  t.equal(netdevRegistry().get('netdev-test-local'), netdev);
  const error = await openNetdev('bogus', 'z', {}).catch((e: unknown) => e);
  t.ok(error instanceof NetdevError && error.code === 'UNKNOWN_TYPE');

  const reg = new NetdevRegistry();
  t.teardown(() => reg.closeAll());
  const provider: NetdevProvider = {
    type: 'null',
    async open(name, _options, context): Promise<Netdev> {
      const stats = { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, rxDropped: 0, txDropped: 0 };
      const netdev: Netdev = {
        name, type: 'null', hwAddr: hwAddrForName(name), stats, carrier: false, onReceive: undefined, onCarrierChange: undefined,
        send: () => { stats.txDropped++; },
        close: async () => { context.release(netdev); },
      };
      return netdev;
    },
  };
  reg.register(provider);
  t.throws(() => reg.register(provider), /already registered/);
  const n = await reg.open('null', 'n', {});
  n.send(Buffer.alloc(60));
  t.equal(n.stats.txDropped, 1, 'a registered provider is opened by its type name');
});
