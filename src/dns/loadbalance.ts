// The loadbalance plugin: rotates A and AAAA records in built answers (round robin), CNAMEs
// kept first. Answers reused as stored bytes keep the order they were built in.
import type { DnsRequest, Handler, ResponseWriter } from './plugin.js';
import type { Message } from './wire.js';

class RotatingWriter implements ResponseWriter {
  constructor(
    private readonly inner: ResponseWriter,
    private readonly shift: number,
  ) {}
  get written(): boolean {
    return this.inner.written;
  }
  writeMessage(msg: Message, from: string): void {
    const addrs = msg.answer.filter((r) => r.type === 'A' || r.type === 'AAAA');
    if (addrs.length > 1) {
      const others = msg.answer.filter((r) => r.type !== 'A' && r.type !== 'AAAA');
      const k = this.shift % addrs.length;
      msg.answer = [...others, ...addrs.slice(k), ...addrs.slice(0, k)];
    }
    this.inner.writeMessage(msg, from);
  }
  writeRaw(reply: Buffer, from: string): void {
    this.inner.writeRaw(reply, from);
  }
}

export class LoadBalanceHandler implements Handler {
  readonly name = 'loadbalance';
  private counter = 0;
  constructor(private readonly next: Handler) {}
  serve(req: DnsRequest, w: ResponseWriter): Promise<number> | number {
    return this.next.serve(req, new RotatingWriter(w, this.counter++));
  }
}
