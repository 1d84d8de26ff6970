/* The whole tree type-checks under strict TypeScript (tsx runs code without checking types). */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = spawnSync(process.execPath, [`${root}/node_modules/typescript/bin/tsc`, '--noEmit', '-p', root], { encoding: 'utf8', timeout: 240_000 });
t.equal(run.status, 0, `tsc --noEmit reports no errors\n${run.stdout}${run.stderr}`);
