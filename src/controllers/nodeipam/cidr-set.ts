// Carves a cluster CIDR into per-node pod CIDRs (IPv4), as the range allocator's cidrset does:
// the lowest free block first.

export class CIDRSetError extends Error {
  override name = 'CIDRSetError';
}

function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new CIDRSetError(`invalid IPv4 address "${ip}"`);
  return parts.reduce((a, p) => a * 256 + Number(p), 0);
}

function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export class CIDRSet {
  private readonly base: number;
  private readonly clusterBits: number;
  readonly size: number;
  private readonly used = new Set<number>();
  private next = 0;

  constructor(
    clusterCIDR: string,
    readonly nodeMaskSize: number,
  ) {
    const [ip, bits, extra] = clusterCIDR.split('/');
    if (!ip || bits === undefined || extra !== undefined || !/^\d+$/.test(bits) || Number(bits) > 32) throw new CIDRSetError(`invalid cluster CIDR "${clusterCIDR}"`);
    if (ip.includes(':')) throw new CIDRSetError(`cluster CIDR "${clusterCIDR}": only IPv4 is supported`);
    this.clusterBits = Number(bits);
    if (nodeMaskSize < this.clusterBits || nodeMaskSize > 32) throw new CIDRSetError(`node CIDR mask size ${nodeMaskSize} must be between the cluster mask /${this.clusterBits} and /32`);
    const mask = this.clusterBits === 0 ? 0 : (~0 << (32 - this.clusterBits)) >>> 0;
    this.base = (ipToInt(ip) & mask) >>> 0;
    this.size = 2 ** (nodeMaskSize - this.clusterBits);
  }

  private cidrAt(i: number): string {
    return `${intToIp(this.base + i * 2 ** (32 - this.nodeMaskSize))}/${this.nodeMaskSize}`;
  }

  /** Index of a CIDR in this set, or undefined when it is not one of its blocks. */
  indexOf(cidr: string): number | undefined {
    const [ip, bits] = cidr.split('/');
    if (!ip || Number(bits) !== this.nodeMaskSize) return undefined;
    let n: number;
    try {
      n = ipToInt(ip);
    } catch {
      return undefined;
    }
    const off = n - this.base;
    const step = 2 ** (32 - this.nodeMaskSize);
    if (off < 0 || off % step !== 0 || off / step >= this.size) return undefined;
    return off / step;
  }

  /** Marks an already assigned CIDR as used; false when it is not in this set. */
  occupy(cidr: string): boolean {
    const i = this.indexOf(cidr);
    if (i === undefined) return false;
    this.used.add(i);
    return true;
  }

  release(cidr: string): void {
    const i = this.indexOf(cidr);
    if (i !== undefined) this.used.delete(i);
  }

  allocate(): string {
    for (let n = 0; n < this.size; n++) {
      const i = (this.next + n) % this.size;
      if (!this.used.has(i)) {
        this.used.add(i);
        this.next = (i + 1) % this.size;
        return this.cidrAt(i);
      }
    }
    throw new CIDRSetError('CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range');
  }
}

/** The n-th usable host address of a pod CIDR (n from 1; .0 is the network). */
export function hostInCIDR(cidr: string, n: number): string | undefined {
  const [ip, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  if (!ip || n < 1 || n >= size - 1) return undefined;
  return intToIp(((ipToInt(ip) & ((~0 << (32 - Number(bits))) >>> 0)) >>> 0) + n);
}
