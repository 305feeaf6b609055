// Child process for the crash test: writes objects through the SQLite store, `concurrency` at a
// time, and prints `acked <key> <modRevision>` only after each write's promise resolved, so the
// parent knows exactly which writes were acknowledged when it SIGKILLs this process.

import { openSqliteStore } from '../../../src/apiserver/storage/sqlite.js';

const [dataDir, countArg, concurrencyArg] = process.argv.slice(2);
const count = Number(countArg ?? 1000);
const concurrency = Number(concurrencyArg ?? 8);

const store = await openSqliteStore(dataDir!, { compactInterval: 0 });
process.stdout.write(`ready ${await store.currentRevision()}\n`);
let next = 0;
async function worker(): Promise<void> {
  while (next < count) {
    const i = next++;
    const key = `/registry/configmaps/crash/cm-${String(i).padStart(6, '0')}`;
    const kv = await store.create(key, JSON.stringify({ kind: 'ConfigMap', metadata: { name: `cm-${i}` }, data: { i: String(i), pad: 'x'.repeat(200) } }));
    process.stdout.write(`acked ${kv.key} ${kv.modRevision}\n`);
  }
}
await Promise.all(Array.from({ length: concurrency }, () => worker()));
process.stdout.write('done\n');
// stay alive until killed: the parent decides when the process dies
setInterval(() => undefined, 1000);
