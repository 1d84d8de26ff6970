/*
 * A configuration database served the way ofswitchd serves it (<dir>/db.sock), without any
 * bridge behind it: for testing ofs-vsctl on its own. Run as
 *
 *   node --import tsx test/vsctl/db-server.ts SOCKET DBFILE
 *
 * It prints "ready" once the socket accepts connections, and exits on SIGTERM.
 * Transactions with wait=true are answered at once (nothing to apply).
 */
import { ConfigDb, DbServer } from '../../lib/config/index.ts';

const [socket, file] = process.argv.slice(2);
if (!socket || !file) {
  process.stderr.write('usage: db-server.ts SOCKET DBFILE\n');
  process.exit(1);
}
const db = ConfigDb.open(file);
const server = await DbServer.listen(socket, db, { applied: async () => undefined });
process.stdout.write('ready\n');
const stop = (): void => {
  void server.close().then(() => {
    db.close();
    process.exit(0);
  });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
