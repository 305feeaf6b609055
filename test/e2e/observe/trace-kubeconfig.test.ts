// trace dns and trace http read the cluster's objects from an API server as the node does:
// objects created with kubectl on a real `kubeplane apiserver`, traced with --kubeconfig.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { runKubeplane } from '../../helpers/cli.js';
import { startApiServer, type TestApiServer } from '../../integration/controllers/cluster.js';

const OBJECTS = `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {clusterIP: 10.96.50.50, ports: [{name: http, port: 80, targetPort: 8080, protocol: TCP}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-manual, namespace: default, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints: [{addresses: [10.244.3.3], conditions: {ready: true}, nodeName: n1}]
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: kubeplane}
spec: {controller: kubeplane.io/ingress}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: site, namespace: default}
spec:
  ingressClassName: kubeplane
  rules: [{host: site.example, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
`;

describeE2E('kubeplane trace --kubeconfig', { commands: ['kubectl'] }, () => {
  let api: TestApiServer | undefined;

  beforeAll(async () => {
    api = await startApiServer('trace');
    const r = await api.kubectl(['apply', '-f', '-'], { input: OBJECTS });
    expect(r.code, r.stderr).toBe(0);
  }, 60_000);

  afterAll(async () => {
    await api?.stop();
  });

  it('trace dns answers from the API server’s objects', async () => {
    const r = await runKubeplane(['trace', 'dns', 'web', '--search', 'default', '--kubeconfig', api!.kubeconfig, '--upstream', '127.0.0.1:9', '-o', 'json']);
    expect(r.stderr).toBe('');
    const t = JSON.parse(r.stdout) as { matched: number; candidates: { rcode: string; answer: { data: string }[] }[] };
    expect(t.matched).toBe(0);
    expect(t.candidates[0]!.rcode).toBe('NOERROR');
    expect(t.candidates[0]!.answer.map((a) => a.data)).toEqual(['10.96.50.50']);
  });

  it('trace http routes to the endpoints the API server holds', async () => {
    const r = await runKubeplane(['trace', 'http', 'http://site.example/x', '--kubeconfig', api!.kubeconfig, '-o', 'json']);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'proxy', backend: { service: 'default/web', port: '80', state: 'ok', endpoints: ['10.244.3.3:8080'] }, upstreamPath: '/x' });
  });

  it('trace <ip>:<port> renders the proxy rules from the API server’s objects', async () => {
    const r = await runKubeplane(['trace', '10.96.50.50:80', '--kubeconfig', api!.kubeconfig, '--cluster-cidr', '10.244.0.0/16', '--node-name', 'n1', '-o', 'json']);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ verdict: 'DNAT', service: { servicePort: 'default/web:http', via: 'ClusterIP' }, endpoints: [{ endpoint: '10.244.3.3:8080', probability: 1 }] });
  });

  it('an API server it cannot reach is a clear error', async () => {
    const r = await runKubeplane(['trace', 'dns', 'web.default.svc.cluster.local', '--kubeconfig', '/nonexistent/kubeconfig']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nonexistent/);
  });
});
