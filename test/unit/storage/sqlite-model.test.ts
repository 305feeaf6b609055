import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { openSqliteStore } from '../../../src/apiserver/storage/sqlite.js';
import { runSteps, stepsArb } from './model.js';

describe('sqlite store against a model', () => {
  it('random histories with txns and compactions', async () => {
    await fc.assert(
      fc.asyncProperty(stepsArb({ compact: true }), async (steps) => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kp-storage-model-'));
        const store = await openSqliteStore(dir, { compactInterval: 0, progressInterval: 0 });
        try {
          await runSteps(store, steps);
        } finally {
          await store.close();
          fs.rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 60 },
    );
  });
});
