// The status page is a pure function of its data: golden-compared byte for byte
// (UPDATE_GOLDEN=1 rewrites the golden file), and every text it shows is escaped.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { escapeHtml, renderStatusPage, type StatusData } from '../../../src/observability/status-page.js';

const golden = join(dirname(fileURLToPath(import.meta.url)), 'golden/status-page.html');

const data: StatusData = {
  node: 'node-a',
  generatedAt: '2026-11-23T12:00:00.000Z',
  rateWindowSeconds: 60,
  components: [
    { name: 'proxy', running: true },
    { name: 'dns', running: true },
    { name: 'ingress', running: false },
  ],
  services: [
    {
      namespace: 'default',
      name: 'web',
      type: 'ClusterIP',
      clusterIPs: ['10.96.0.7'],
      ports: ['http 80/TCP'],
      endpoints: [
        { node: 'node-a', ready: ['10.244.0.5', '10.244.0.6'], notReady: [] },
        { node: 'node-b', ready: [], notReady: ['10.244.1.9'] },
      ],
    },
    { namespace: 'default', name: 'empty', type: 'ClusterIP', clusterIPs: ['10.96.0.8'], ports: ['80/TCP'], endpoints: [] },
  ],
  proxy: {
    mode: 'iptables',
    syncs: 3,
    lastSyncSeconds: 0.0123,
    meanSyncSeconds: 0.02,
    families: [{ family: 'IPv4', syncs: 3, lastSyncAt: 1795435200, lastSyncOK: true, rules: [{ table: 'filter', count: 4 }, { table: 'nat', count: 21 }] }],
  },
  dns: { queries: 12, rate: 0.2, byRcode: [{ rcode: 'NOERROR', count: 9 }, { rcode: 'NXDOMAIN', count: 3 }], byType: [{ type: 'A', count: 12 }] },
  ingress: {
    routes: [
      { host: 'shop.example', path: '/', pathType: 'Prefix', ingress: 'default/shop', backend: 'default/web:80', requests: 10, rate: 0.17, errors: 2 },
      { host: '', path: '/', pathType: 'Prefix', ingress: 'default/<catch>', backend: 'default/empty:80', requests: 0, rate: 0, errors: 0 },
    ],
    rejectedIngresses: 1,
  },
};

describe('status page', () => {
  it('renders the golden page', () => {
    const html = renderStatusPage(data, 10);
    if (process.env.UPDATE_GOLDEN === '1' || !existsSync(golden)) {
      if (process.env.UPDATE_GOLDEN !== '1') throw new Error(`missing golden file ${golden}: run with UPDATE_GOLDEN=1`);
      writeFileSync(golden, html);
    }
    expect(html).toBe(readFileSync(golden, 'utf8'));
  });

  it('needs no script and loads nothing from elsewhere', () => {
    const html = renderStatusPage(data);
    expect(html).not.toMatch(/<script|<link|src=|url\(/i);
    expect(html).not.toMatch(/http-equiv="refresh"/);
  });

  it('escapes every text it shows', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    const html = renderStatusPage({ ...data, node: '<script>alert(1)</script>' });
    expect(html).not.toContain('<script>');
    expect(html).toContain('default/&lt;catch&gt;');
  });

  it('says which components are off', () => {
    const html = renderStatusPage({ ...data, proxy: undefined, dns: undefined, ingress: undefined, services: [] });
    expect(html).toContain('The proxy is not running on this node.');
    expect(html).toContain('Cluster DNS is not running on this node.');
    expect(html).toContain('The ingress controller is not running on this node.');
    expect(html).toContain('No Services.');
  });
});
