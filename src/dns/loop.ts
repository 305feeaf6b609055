// The loop plugin: at start the server asks itself `<random>.<random>.<zone> HINFO`; when
// that query comes back through the chain more than twice, queries are going round in a
// forwarding loop (e.g. an upstream that is this server), and the process stops as CoreDNS does.
import { randomInt } from 'node:crypto';
import type { DnsRequest, Handler, ResponseWriter } from './plugin.js';
import { logger } from '../observability/log.js';

const log = logger('dns/loop');

export class LoopHandler implements Handler {
  readonly name = 'loop';
  readonly probeName: string;
  private seen = 0;
  private disabled = false;

  constructor(
    zone: string,
    private readonly next: Handler,
    private readonly onLoop: (msg: string) => void,
  ) {
    this.probeName = `${randomInt(1e9)}.${randomInt(1e9)}${zone ? '.' + zone : ''}`;
  }

  /** Stops looking once the probe got an answer that did not loop. */
  settle(): void {
    this.disabled = true;
  }

  serve(req: DnsRequest, w: ResponseWriter): Promise<number> | number {
    if (!this.disabled && req.name === this.probeName) {
      this.seen++;
      if (this.seen > 2) {
        const msg = `Loop (${req.remoteAddress} -> ${req.transport}) detected for zone "${this.probeName}", see https://coredns.io/plugins/loop#troubleshooting. Query: "HINFO ${this.probeName}."`;
        log.error('Forwarding loop detected', undefined, { detail: msg });
        this.disabled = true;
        this.onLoop(msg);
      }
    }
    return this.next.serve(req, w);
  }
}
