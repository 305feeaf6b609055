import { describe, expect, it } from 'vitest';
import { endpointChainName, masqueradeMark, portProtoHash, probability, serviceChainName } from '../../../src/proxy/iptables/names.js';
import { hashAndTruncate } from '../../../src/proxy/nftables/names.js';

describe('kube-proxy chain names', () => {
  it('hashes service ports as portProtoHash does', () => {
    expect(portProtoHash('ns1/svc1:p80', 'TCP')).toBe('XPGD46QRK7WJZT7O');
    expect(serviceChainName('kube-system/kube-dns:dns', 'UDP')).toBe('KUBE-SVC-TCOU7JCQXEZGVUNU');
    expect(serviceChainName('kube-system/kube-dns:dns-tcp', 'TCP')).toBe('KUBE-SVC-ERIFXISQEP7F7OF4');
    expect(serviceChainName('kube-system/kube-dns:metrics', 'TCP')).toBe('KUBE-SVC-JD5MR3NA4I4DYORP');
    expect(serviceChainName('default/kubernetes:https', 'TCP')).toBe('KUBE-SVC-NPX46M4PTMTKRN6Y');
  });
  it('hashes endpoints with the service port', () => {
    expect(endpointChainName('ns1/svc1:p80', 'TCP', '10.180.0.1:80')).toBe('KUBE-SEP-SXIVWICOYRO3J4NJ');
  });
  it('names nftables chains as hashAndTruncate does', () => {
    expect(hashAndTruncate('testing/service/tcp/http')).toBe('P4ZYZVCF-testing/service/tcp/http');
    expect(hashAndTruncate('testing/service/tcp/http__10.180.0.1/80')).toBe('JO2XBXZR-testing/service/tcp/http__10.180.0.1/80');
    expect('service-' + hashAndTruncate('ns1/svc1/tcp/p80')).toBe('service-ULMVA6XW-ns1/svc1/tcp/p80');
    const long = hashAndTruncate('x'.repeat(300));
    expect(long.length).toBe(240);
    expect(long.endsWith('...')).toBe(true);
  });
  it('formats probabilities as Go %0.10f, including the half-even tie', () => {
    expect(probability(1)).toBe('1.0000000000');
    expect(probability(2)).toBe('0.5000000000');
    expect(probability(3)).toBe('0.3333333333');
    expect(probability(10)).toBe('0.1000000000');
    expect(probability(100)).toBe('0.0100000000');
    expect(probability(100001)).toBe('0.0000099999');
    expect(probability(2048)).toBe('0.0004882812');
  });
  it('formats the masquerade mark as %#08x', () => {
    expect(masqueradeMark(14)).toBe('0x00004000');
    expect(masqueradeMark(0)).toBe('0x00000001');
  });
});
