import { X509Certificate, createPrivateKey } from 'node:crypto';
import { once } from 'node:events';
import * as tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createCA, createServingCert } from '../../../src/pki/index.js';

describe('pki', () => {
  const ca = createCA('kubeplane-ca');
  const serving = createServingCert({ ca, commonName: 'kube-apiserver', dnsNames: ['localhost', 'kubernetes.default.svc'], ipAddresses: ['127.0.0.1', '::1', '10.96.0.1'] });

  it('makes a self-signed CA node can parse', () => {
    const c = new X509Certificate(ca.certPem);
    expect(c.subject).toBe('CN=kubeplane-ca');
    expect(c.issuer).toBe('CN=kubeplane-ca');
    expect(c.ca).toBe(true);
    expect(c.verify(c.publicKey)).toBe(true);
    expect(c.checkPrivateKey(createPrivateKey(ca.keyPem))).toBe(true);
    expect(new Date(c.validFrom).getTime()).toBeLessThan(Date.now());
    expect(new Date(c.validTo).getTime()).toBeGreaterThan(Date.now() + 3000 * 24 * 3600 * 1000);
  });

  it('signs a serving certificate for its names and addresses', () => {
    const c = new X509Certificate(serving.certPem);
    const caCert = new X509Certificate(ca.certPem);
    expect(c.ca).toBe(false);
    expect(c.subject).toBe('CN=kube-apiserver');
    expect(c.checkIssued(caCert)).toBe(true);
    expect(c.verify(caCert.publicKey)).toBe(true);
    expect(c.verify(c.publicKey)).toBe(false);
    expect(c.checkPrivateKey(createPrivateKey(serving.keyPem))).toBe(true);
    expect(c.checkHost('localhost')).toBe('localhost');
    expect(c.checkHost('kubernetes.default.svc')).toBe('kubernetes.default.svc');
    expect(c.checkHost('example.com')).toBeUndefined();
    expect(c.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(c.checkIP('10.96.0.1')).toBe('10.96.0.1');
    expect(c.checkIP('::1')).toBe('::1');
    expect(c.checkIP('127.0.0.2')).toBeUndefined();
    expect(c.keyUsage).toContain('1.3.6.1.5.5.7.3.1');
    expect(c.serialNumber).not.toBe(new X509Certificate(createServingCert({ ca, commonName: 'x' }).certPem).serialNumber);
  });

  it('rejects a bad IP address', () => {
    expect(() => createServingCert({ ca, commonName: 'x', ipAddresses: ['300.1.1.1'] })).toThrow(/invalid IP address/);
  });

  it('completes a TLS handshake with only the CA as trust root', async () => {
    const server = tls.createServer({ cert: serving.certPem, key: serving.keyPem }, (sock) => sock.end('hello'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    try {
      for (const servername of ['localhost', undefined]) {
        const sock = tls.connect({ host: '127.0.0.1', port, ca: ca.certPem, servername });
        await once(sock, 'secureConnect');
        expect(sock.authorized).toBe(true);
        const chunks: Buffer[] = [];
        sock.on('data', (d: Buffer) => chunks.push(d));
        await once(sock, 'end');
        expect(Buffer.concat(chunks).toString()).toBe('hello');
        sock.destroy();
      }
      // a different CA must not be trusted
      const other = createCA('other');
      const bad = tls.connect({ host: '127.0.0.1', port, ca: other.certPem, servername: 'localhost' });
      const [err] = (await once(bad, 'error')) as [Error & { code?: string }];
      expect(err.code).toMatch(/UNABLE_TO_VERIFY|SELF_SIGNED|CERT/);
      bad.destroy();
    } finally {
      server.close();
    }
  });
});
