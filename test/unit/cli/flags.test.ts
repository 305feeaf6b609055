import { describe, expect, it } from 'vitest';
import { FlagError, parseDuration, parseFlags, type FlagSpec } from '../../../src/cli/flags.js';

const specs: FlagSpec[] = [
  { name: 'secure-port', type: 'int', default: 6443, help: '' },
  { name: 'bind-address', type: 'string', default: '0.0.0.0', help: '' },
  { name: 'cleanup', type: 'bool', default: false, help: '' },
  { name: 'min-sync-period', type: 'duration', default: 1000, help: '' },
  { name: 'nodeport-addresses', type: 'list', default: [], help: '' },
  { name: 'v', short: 'v', type: 'int', default: 0, help: '' },
];

describe('parseFlags', () => {
  it('takes --name=value, --name value, bare booleans and defaults', () => {
    const p = parseFlags(specs, ['--secure-port=7443', '--bind-address', '127.0.0.1', '--cleanup', 'extra']);
    expect(p.values['secure-port']).toBe(7443);
    expect(p.values['bind-address']).toBe('127.0.0.1');
    expect(p.values.cleanup).toBe(true);
    expect(p.values['min-sync-period']).toBe(1000);
    expect(p.args).toEqual(['extra']);
    expect([...p.set].sort()).toEqual(['bind-address', 'cleanup', 'secure-port']);
  });

  it('parses Go durations and accumulates repeated list flags', () => {
    const p = parseFlags(specs, ['--min-sync-period=1m30s', '--nodeport-addresses=10.0.0.0/8,192.168.0.0/16', '--nodeport-addresses', '127.0.0.0/8']);
    expect(p.values['min-sync-period']).toBe(90_000);
    expect(p.values['nodeport-addresses']).toEqual(['10.0.0.0/8', '192.168.0.0/16', '127.0.0.0/8']);
  });

  it("accepts klog's -v=N and --v N", () => {
    expect(parseFlags(specs, ['-v=4']).values.v).toBe(4);
    expect(parseFlags(specs, ['--v', '2']).values.v).toBe(2);
  });

  it('names the flag in every error', () => {
    expect(() => parseFlags(specs, ['--bogus'])).toThrow(new FlagError('unknown flag: --bogus'));
    expect(() => parseFlags(specs, ['--secure-port=abc'])).toThrow(/"--secure-port"/);
    expect(() => parseFlags(specs, ['--min-sync-period=soon'])).toThrow(/"--min-sync-period"/);
    expect(() => parseFlags(specs, ['--bind-address'])).toThrow(/--bind-address/);
    expect(() => parseFlags(specs, ['--cleanup=maybe'])).toThrow(/"--cleanup"/);
  });

  it('stops at --', () => {
    expect(parseFlags(specs, ['--', '--cleanup']).args).toEqual(['--cleanup']);
  });
});

describe('parseDuration', () => {
  it.each([
    ['0', 0],
    ['500ms', 500],
    ['1s', 1000],
    ['1.5s', 1500],
    ['2h45m', 9_900_000],
  ])('%s', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it('rejects garbage', () => {
    expect(() => parseDuration('10')).toThrow();
    expect(() => parseDuration('1x')).toThrow();
  });
});
