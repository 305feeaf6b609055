// Disk full on the data dir (a small tmpfs): writes fail with NoSpace and a clear log line,
// nothing acknowledged is lost, and writes resume once space returns.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { configureLogging } from '../../../src/observability/log.js';
import { StorageError, type Store } from '../../../src/apiserver/storage/interface.js';
import { openSqliteStore } from '../../../src/apiserver/storage/sqlite.js';
import { collectWatch } from '../../unit/storage/contract.js';

describeE2E('sqlite store: disk full', { root: true, commands: ['mount', 'umount'] }, () => {
  let mnt = '';
  let mounted = false;
  const stores: Store[] = [];
  const logLines: string[] = [];

  beforeAll(() => {
    mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'kp-storage-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', `kp-storage-${process.pid}`, mnt]);
    mounted = true;
    configureLogging({ write: (line) => void logLines.push(line) });
  });

  afterAll(async () => {
    configureLogging({ write: (line) => process.stderr.write(line) });
    for (const s of stores) await s.close().catch(() => undefined);
    if (mounted) execFileSync('umount', [mnt]);
    fs.rmSync(mnt, { recursive: true, force: true });
  });

  it('refuses writes with NoSpace while full, keeps every acknowledged write, resumes when space is freed', async () => {
    const dataDir = path.join(mnt, 'data');
    const store = await openSqliteStore(dataDir, { compactInterval: 0 });
    stores.push(store);
    const start = await store.currentRevision();
    // leave only a little room, then fill it with objects
    const free = fs.statfsSync(mnt).bavail * fs.statfsSync(mnt).bsize;
    const filler = path.join(mnt, 'filler');
    fs.writeFileSync(filler, Buffer.alloc(Math.max(0, free - 300 * 1024)));
    const value = JSON.stringify({ data: 'x'.repeat(4000) });
    const acked: string[] = [];
    let noSpace: StorageError | undefined;
    for (let i = 0; i < 2000 && !noSpace; i++) {
      const key = `/registry/configmaps/full/cm${i}`;
      try {
        await store.create(key, value);
        acked.push(key);
      } catch (err) {
        noSpace = err as StorageError;
      }
    }
    expect(noSpace).toBeInstanceOf(StorageError);
    expect(noSpace!.code).toBe('NoSpace');
    expect(acked.length).toBeGreaterThan(0);
    expect(logLines.some((l) => /no space left/i.test(l))).toBe(true);

    // still full: still refused, reads still served
    await expect(store.create('/registry/configmaps/full/again', value)).rejects.toMatchObject({ code: 'NoSpace' });
    expect(await store.count('/registry/configmaps/full/')).toBe(acked.length);
    expect(await store.currentRevision()).toBe(start + acked.length);

    fs.rmSync(filler);
    const resumed = await store.create('/registry/configmaps/full/after', value);
    expect(resumed.modRevision).toBe(start + acked.length + 1);
    await store.close();

    const reopened = await openSqliteStore(dataDir, { compactInterval: 0 });
    stores.push(reopened);
    for (const key of acked) expect((await reopened.get(key)).kv?.value, key).toBe(value);
    const w = collectWatch(reopened, '/registry/configmaps/full/', start);
    await w.until(acked.length + 1);
    w.cancel();
    expect(w.events.map((e) => e.kv.modRevision)).toEqual(Array.from({ length: acked.length + 1 }, (_, i) => start + 1 + i));
  });
});
