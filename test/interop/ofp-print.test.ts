/*
 * Oracle: the real `ovs-ofctl -O OpenFlow13 ofp-print` reads every message of our corpus
 * without a decode error and shows the expected fields. Where Open vSwitch 3.1 does not
 * implement what the OpenFlow 1.3 specification has (PBB, COPY_TTL, IPv6 extension-header
 * match, in_phy_port, experimenters it does not know), it must refuse with exactly the
 * error the corpus names, which proves the bytes are what the specification lays out.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { buildCorpus } from '../../fixtures/codec-corpus/build-corpus.ts';
import { encodeMessage } from '../../protocol/index.ts';

const OVS_OFCTL = '/usr/bin/ovs-ofctl';

t.test('ovs-ofctl ofp-print reads every corpus message', { skip: existsSync(OVS_OFCTL) ? false : `${OVS_OFCTL} not installed` }, async (t) => {
  for (const entry of buildCorpus()) {
    const hex = encodeMessage(entry.message).toString('hex');
    const run = spawnSync(OVS_OFCTL, ['-O', 'OpenFlow13', 'ofp-print', hex], { encoding: 'utf8', timeout: 10_000 });
    const printed = `${run.stdout}${run.stderr}`;
    if (entry.ovsRejects) {
      t.match(printed, entry.ovsRejects, `${entry.name}: Open vSwitch refuses it with ${entry.ovsRejects}`);
      continue;
    }
    t.notMatch(printed, /decode error|\*\*\*/, `${entry.name}: no decode error`);
    const missing = entry.expect.filter((s) => !printed.includes(s));
    t.same(missing, [], `${entry.name}: shows ${entry.expect.join(' | ')}${missing.length ? `\n${printed}` : ''}`);
  }
});
