import { describe, expect, it } from 'vitest';
import { workerExecArgv } from '../../../src/dns/workers.js';

describe('workerExecArgv', () => {
  it('gives workers a small young generation unless the operator chose one', () => {
    expect(workerExecArgv(['--enable-source-maps'], '')).toEqual(['--enable-source-maps', '--max-semi-space-size=4']);
    expect(workerExecArgv(['--max-semi-space-size=16'], '')).toEqual(['--max-semi-space-size=16']);
    expect(workerExecArgv([], '--max-semi-space-size=8 --trace-gc')).toEqual([]);
  });
});
