// IngressController wiring with file-backed informers: ownership, rejection reports, and
// status writes (leader only, owned Ingresses only, only when the address differs).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { Ingress, LoadBalancerIngress } from '../../../src/api/types.js';
import { FileInformerFactory } from '../../../src/client/file-informers.js';
import { IngressController } from '../../../src/ingress/setup.js';
import { publishAddresses, statusNeedsUpdate, type IngressStatusWriter } from '../../../src/ingress/status.js';

class RecordingWriter implements IngressStatusWriter {
  readonly writes: string[] = [];
  constructor(private readonly leader: boolean) {}
  isLeader(): boolean {
    return this.leader;
  }
  async update(ing: Ingress, addresses: LoadBalancerIngress[]): Promise<void> {
    this.writes.push(`${ing.metadata.namespace}/${ing.metadata.name} ${JSON.stringify(addresses)}`);
  }
}

const ingress = (name: string, cls: string | undefined, extra: Record<string, unknown> = {}): object => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name, namespace: 'default', ...(extra.metadata as object) },
  spec: { ingressClassName: cls, rules: [{ host: `${name}.test`, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 's', port: { number: 80 } } } }] } }] },
  ...(extra.status ? { status: extra.status } : {}),
});

const dirs: string[] = [];
const controllers: IngressController[] = [];
afterEach(async () => {
  for (const c of controllers.splice(0)) await c.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function start(writer: IngressStatusWriter, rejected: string[]): Promise<IngressController> {
  const dir = mkdtempSync(join(tmpdir(), 'kp-ingress-setup-'));
  dirs.push(dir);
  const file = join(dir, 'objects.yaml');
  const objs = [
    { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'kubeplane' }, spec: { controller: 'kubeplane.io/ingress' } },
    ingress('owned', 'kubeplane'),
    ingress('current', 'kubeplane', { status: { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } } }),
    ingress('foreign', 'nginx'),
    ingress('invalid', 'kubeplane', { metadata: { annotations: { 'nginx.ingress.kubernetes.io/ssl-redirect': 'maybe' } } }),
  ];
  writeFileSync(file, objs.map((o) => stringify(o)).join('---\n'));
  const c = new IngressController({
    informers: new FileInformerFactory(file),
    selection: { ingressClass: 'kubeplane', controllerName: 'kubeplane.io/ingress', watchWithoutClass: false },
    status: writer,
    publishAddresses: publishAddresses(['192.0.2.10']),
    events: { rejected: (ing, reason) => rejected.push(`${ing.metadata.namespace}/${ing.metadata.name}: ${reason}`) },
  });
  controllers.push(c);
  await c.start();
  return c;
}

describe('IngressController', () => {
  it('the leader writes status only for owned, accepted Ingresses whose address differs', async () => {
    const w = new RecordingWriter(true);
    const rejected: string[] = [];
    const c = await start(w, rejected);
    expect(w.writes).toEqual(['default/owned [{"ip":"192.0.2.10"}]']);
    expect(rejected).toEqual(['default/invalid: annotation nginx.ingress.kubernetes.io/ssl-redirect: "maybe" is not a boolean (want true or false)']);
    expect([...c.proxy.table.exact].map(([h]) => h).sort()).toEqual(['current.test', 'owned.test']);
  });
  it('a non-leader writes nothing', async () => {
    const w = new RecordingWriter(false);
    await start(w, []);
    expect(w.writes).toEqual([]);
  });
});

describe('status helpers', () => {
  it('publishAddresses splits IPs and hostnames', () => {
    expect(publishAddresses(['10.0.0.1', 'lb.example.com', 'fd00::1'])).toEqual([{ ip: '10.0.0.1' }, { hostname: 'lb.example.com' }, { ip: 'fd00::1' }]);
  });
  it('statusNeedsUpdate ignores order', () => {
    const ing = { metadata: {}, spec: {}, status: { loadBalancer: { ingress: [{ ip: 'b' }, { ip: 'a' }] } } } as Ingress;
    expect(statusNeedsUpdate(ing, [{ ip: 'a' }, { ip: 'b' }])).toBe(false);
    expect(statusNeedsUpdate(ing, [{ ip: 'a' }])).toBe(true);
  });
});
