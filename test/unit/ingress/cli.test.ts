// `kubeplane ingress` flag handling: each bad command line gets one clear line and exit 2.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runKubeplane } from '../../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'kp-ingress-cli-'));
const objects = join(dir, 'objects.yaml');
writeFileSync(objects, 'apiVersion: v1\nkind: List\nitems: []\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cases: [string, string[], string][] = [
  ['unreadable --kubeconfig', ['--kubeconfig', join(dir, 'no-kubeconfig'), '--http-bind', '127.0.0.1:0', '--https-bind', 'off', '--metrics-bind', 'off'], 'no-kubeconfig'],
  ['bad --http-bind', ['--objects', objects, '--http-bind', 'nonsense'], 'invalid --http-bind "nonsense": want HOST:PORT'],
  ['port out of range', ['--objects', objects, '--https-bind', '127.0.0.1:70000'], 'invalid --https-bind'],
  ['both listeners off', ['--objects', objects, '--http-bind', 'off', '--https-bind', 'off'], 'at least one of --http-bind and --https-bind'],
  ['bad --default-backend-service', ['--objects', objects, '--http-bind', '127.0.0.1:0', '--https-bind', 'off', '--default-backend-service', 'just-a-name'], 'want NAMESPACE/NAME'],
  ['bad --default-ssl-certificate', ['--objects', objects, '--http-bind', '127.0.0.1:0', '--https-bind', 'off', '--default-ssl-certificate', 'A/B'], 'want NAMESPACE/NAME'],
  ['missing objects file', ['--objects', join(dir, 'missing.yaml'), '--http-bind', '127.0.0.1:0', '--https-bind', 'off', '--metrics-bind', 'off'], 'cannot read'],
];

describe('kubeplane ingress flags', () => {
  for (const [name, args, msg] of cases) {
    it(name, async () => {
      const r = await runKubeplane(['ingress', ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(msg);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }
  it('a listener address already in use', async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    const port = (s.address() as { port: number }).port;
    try {
      const r = await runKubeplane(['ingress', '--objects', objects, '--http-bind', `127.0.0.1:${port}`, '--https-bind', 'off', '--metrics-bind', 'off']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`cannot listen on 127.0.0.1:${port}: EADDRINUSE`);
    } finally {
      s.close();
    }
  });
});
