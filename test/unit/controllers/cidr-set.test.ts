import { describe, expect, it } from 'vitest';
import { CIDRSet, CIDRSetError, hostInCIDR } from '../../../src/controllers/nodeipam/cidr-set.js';

describe('CIDRSet', () => {
  it('hands out /24s from 10.244.0.0/16 in order, skipping occupied ones', () => {
    const s = new CIDRSet('10.244.0.0/16', 24);
    expect(s.size).toBe(256);
    expect(s.occupy('10.244.1.0/24')).toBe(true);
    expect([s.allocate(), s.allocate(), s.allocate()]).toEqual(['10.244.0.0/24', '10.244.2.0/24', '10.244.3.0/24']);
  });

  it('reuses a released block and reports exhaustion with the range allocator wording', () => {
    const s = new CIDRSet('192.168.0.0/23', 24);
    const a = s.allocate();
    s.allocate();
    expect(() => s.allocate()).toThrow(/no remaining CIDRs left to allocate/);
    s.release(a);
    expect(s.allocate()).toBe(a);
  });

  it('does not occupy blocks outside its range or of another size', () => {
    const s = new CIDRSet('10.244.0.0/16', 24);
    expect(s.occupy('10.245.0.0/24')).toBe(false);
    expect(s.occupy('10.244.0.0/25')).toBe(false);
    expect(s.occupy('10.244.0.128/24')).toBe(false);
  });

  it.each([['nonsense', 24], ['10.244.0.0/33', 24], ['10.244.0.0/16', 8], ['fd00::/64', 80], ['10.244.0.300/16', 24]])('refuses %s with mask %i', (cidr, mask) => {
    expect(() => new CIDRSet(cidr, mask)).toThrow(CIDRSetError);
  });

  it('hostInCIDR gives usable host addresses only', () => {
    expect(hostInCIDR('10.244.3.0/24', 2)).toBe('10.244.3.2');
    expect(hostInCIDR('10.244.3.0/24', 254)).toBe('10.244.3.254');
    expect(hostInCIDR('10.244.3.0/24', 255)).toBeUndefined();
    expect(hostInCIDR('10.244.3.0/24', 0)).toBeUndefined();
  });
});
