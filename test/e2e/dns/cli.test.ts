// `kubeplane dns` user errors: a clear message and exit code 2, never a stack trace.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKubeplane } from '../../helpers/cli.js';

describe('kubeplane dns flags and Corefile errors', () => {
  // Created in beforeAll: describe bodies also run for filtered-out tests, whose hooks do not.
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kp-dns-cli-'));
    writeFileSync(join(dir, 'objects.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata: {name: default}\n');
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const objects = '@OBJECTS@';

  const cases: [string, string[], string | undefined, RegExp][] = [
    ['unknown plugin named', ['--objects', objects], '.:53 {\n  rewrite name a b\n}\n', /unknown plugin "rewrite"/],
    ['bad ttl', ['--objects', objects], '.:53 {\n  kubernetes cluster.local {\n    ttl -1\n  }\n}\n', /ttl must be an integer/],
    ['unreadable --kubeconfig', ['--kubeconfig', '@DIR@/no-kubeconfig'], undefined, /no-kubeconfig/],
    ['bad --dns-bind', ['--objects', objects, '--dns-bind', '127.0.0.1:99999'], undefined, /invalid --dns-bind/],
    ['bad --workers', ['--objects', objects, '--workers', '0'], undefined, /--workers must be between 1 and 64/],
    ['unreadable corefile', ['--objects', objects, '--corefile', '@DIR@/missing'], undefined, /cannot read --corefile/],
  ];
  for (const [name, args, corefile, want] of cases) {
    it(name, async () => {
      const extra: string[] = [];
      if (corefile !== undefined) {
        const p = join(dir, `Corefile-${name.replaceAll(' ', '-')}`);
        writeFileSync(p, corefile);
        extra.push('--corefile', p);
      }
      const argv = [...args, ...extra].map((a) => a.replace('@OBJECTS@', join(dir, 'objects.yaml')).replace('@DIR@', dir));
      const r = await runKubeplane(['dns', ...argv]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(want);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }
});
