import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/dns/config.js';
import { defaultCorefile } from '../../../src/dns/corefile.js';

const resolv = (): string[] => ['192.0.2.53:53'];
const block = (body: string, key = '.:53'): string => `${key} {\n${body}\n}\n`;

describe('Corefile → options', () => {
  const ok: { name: string; text: string; check: (c: ReturnType<typeof parseConfig>) => void }[] = [
    {
      name: 'kubeadm default',
      text: defaultCorefile({ port: 53, upstream: '/etc/resolv.conf' }),
      check: (c) => {
        const b = c.blocks[0]!;
        expect(b.zones).toEqual(['']);
        expect(b.port).toBe(53);
        expect(b.kubernetes).toMatchObject({ zones: ['cluster.local', 'in-addr.arpa', 'ip6.arpa'], pods: 'insecure', ttl: 30, fallthrough: ['in-addr.arpa', 'ip6.arpa'] });
        expect(b.forward).toMatchObject({ from: '', to: ['192.0.2.53:53'], maxConcurrent: 1000 });
        expect(b.cache).toMatchObject({ successTtl: 30, denialTtl: 30, disableSuccess: ['cluster.local'], disableDenial: ['cluster.local'] });
        expect(c.health).toEqual({ addr: ':8080', lameduckMs: 5000 });
        expect(c.ready).toEqual({ addr: ':8181' });
        expect(c.prometheus).toEqual({ addr: ':9153' });
        expect(b.loop && b.loadbalance && b.errors).toBe(true);
      },
    },
    { name: 'zones from the server key', text: block('kubernetes', 'cluster.local:1053'), check: (c) => expect(c.blocks[0]).toMatchObject({ zones: ['cluster.local'], port: 1053, kubernetes: { zones: ['cluster.local'], ttl: 5, pods: 'disabled' } }) },
    { name: 'several keys', text: block('kubernetes', 'cluster.local. in-addr.arpa:53'), check: (c) => expect(c.blocks[0]!.zones).toEqual(['cluster.local', 'in-addr.arpa']) },
    { name: 'namespaces, ignore, endpoint_pod_names', text: block('kubernetes cluster.local {\n namespaces a B\n ignore empty_service\n endpoint_pod_names\n pods verified\n}'), check: (c) => expect(c.blocks[0]!.kubernetes).toMatchObject({ namespaces: ['a', 'b'], ignoreEmptyService: true, endpointPodNames: true, pods: 'verified' }) },
    { name: 'bare fallthrough', text: block('kubernetes cluster.local {\n fallthrough\n}'), check: (c) => expect(c.blocks[0]!.kubernetes!.fallthrough).toEqual(['']) },
    { name: 'forward options', text: block('forward . 127.0.0.1:5300 [::1]:53 {\n force_tcp\n max_fails 3\n health_check 1s\n except foo.com\n}'), check: (c) => expect(c.blocks[0]!.forward).toMatchObject({ to: ['127.0.0.1:5300', '[::1]:53'], forceTcp: true, maxFails: 3, healthCheckMs: 1000, except: ['foo.com'] }) },
    { name: 'cache capacities', text: block('cache 60 example.org {\n success 100 20 2\n denial 50\n}'), check: (c) => expect(c.blocks[0]!.cache).toMatchObject({ zones: ['example.org'], successTtl: 20, successCapacity: 100, denialTtl: 60, denialCapacity: 50, minTtl: 2 }) },
    { name: 'comments and env', text: '# top\n.:53 { # trailing\n  log # per query\n}\n', check: (c) => expect(c.blocks[0]!.log).toBe(true) },
    { name: 'reload interval', text: block('reload 10s 2s'), check: (c) => expect(c.reload).toEqual({ intervalMs: 10000, jitterMs: 2000 }) },
  ];
  for (const t of ok) it(t.name, () => t.check(parseConfig(t.text, resolv)));

  const bad: [string, string, string][] = [
    ['unknown plugin is named', block('rewrite name foo bar'), 'unknown plugin "rewrite"'],
    ['ttl out of range', block('kubernetes cluster.local {\n ttl 3601\n}'), 'ttl must be between 0 and 3600'],
    ['bad pods mode', block('kubernetes cluster.local {\n pods sometimes\n}'), 'wants one of disabled, insecure, verified'],
    ['unknown kubernetes property', block('kubernetes cluster.local {\n wildcard\n}'), 'unknown property "wildcard"'],
    ['forward without targets', block('forward .'), 'wants FROM and at least one TO'],
    ['forward to a name', block('forward . dns.google'), 'not an IP address or file'],
    ['missing brace', '.:53 {\n errors\n', 'missing "}"'],
    ['no block', '.:53\n', 'has no "{"'],
    ['bad port', block('errors', '.:99999'), 'invalid port'],
    ['duplicate plugin', block('cache\ncache'), 'may appear only once'],
    ['bad lameduck', block('health {\n lameduck soon\n}'), 'lameduck must be a duration'],
    ['bad health address', block('health localhost'), 'address must be [HOST]:PORT'],
    ['tls transport', block('errors', 'tls://.:853'), 'unsupported transport'],
  ];
  for (const [name, text, want] of bad) it(`error: ${name}`, () => expect(() => parseConfig(text, resolv)).toThrow(want));
});
