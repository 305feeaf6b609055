import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteStore } from '../../../src/apiserver/storage/sqlite.js';
import { storeContract } from './contract.js';

let dir = '';
storeContract('sqlite', {
  async open() {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kp-storage-'));
    return openSqliteStore(dir, { compactInterval: 0 });
  },
  async cleanup() {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  },
});
