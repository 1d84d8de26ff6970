/*
 * Interface statistics reach the database as in Open vSwitch (refreshed every 5 s): frames
 * sent into a stream port show up in `ofs-vsctl get interface p1 statistics` as rx_packets and
 * rx_bytes, next to the link state and OpenFlow port number the daemon records.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOfswitchd, waitFor } from '../helpers/ofswitchd.ts';
import { OFS_VSCTL } from './harness.ts';

t.test('statistics, link_state and ofport in the Interface row', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ofs-stats-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const p1 = join(dir, 'p1.sock');
  const daemon = await startOfswitchd([`--port=p1:1,pstream=punix:${p1}`]);
  t.teardown(() => daemon.stop());
  const get = (column: string): string =>
    spawnSync(OFS_VSCTL, [`--rundir=${daemon.rundir}`, 'get', 'interface', 'p1', column], { encoding: 'utf8', timeout: 10_000 }).stdout.trim();

  const socket = createConnection(p1);
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
  const frame = Buffer.concat([Buffer.from('ffffffffffff000000000001', 'hex'), Buffer.from([0x88, 0xb5]), Buffer.alloc(50, 0xab)]);
  for (let i = 0; i < 3; i++) socket.write(Buffer.concat([Buffer.from([0, frame.length]), frame]));
  await new Promise<void>((resolve) => socket.end(resolve));

  await waitFor(() => /rx_packets=3\b/.test(get('statistics')), 8000, 'rx_packets=3 in the database');
  const statistics = get('statistics');
  t.match(statistics, /^\{rx_bytes=192, rx_dropped=\d+, rx_packets=3, tx_bytes=\d+, tx_dropped=\d+, tx_packets=\d+\}$/, `statistics: ${statistics}`);
  t.equal(get('ofport'), '1', 'ofport 1');
  t.equal(get('link_state'), 'up', 'link_state up');
});
