// The handler contract every plugin implements, after CoreDNS's plugin.Handler: a plugin
// serves a request and returns an rcode. SERVFAIL, REFUSED, FORMERR and NOTIMP returned
// without writing mean "nothing written, the server replies with this rcode".
import type { Message, ParsedQuery } from './wire.js';

export type Transport = 'udp' | 'tcp';

export interface DnsRequest {
  readonly raw: Buffer;
  readonly query: ParsedQuery;
  /** lower-case question name, no trailing dot, computed once */
  readonly name: string;
  readonly transport: Transport;
  readonly remoteAddress: string;
  /** set for requests a plugin makes through the chain itself (ExternalName chasing) */
  readonly internal: boolean;
}

export interface ResponseWriter {
  /** A message this server built; the server encodes it and truncates it for UDP. */
  writeMessage(msg: Message, from: string): void;
  /** A complete reply as bytes (a forwarded or cached answer), ID already patched. */
  writeRaw(reply: Buffer, from: string): void;
  readonly written: boolean;
}

export interface Handler {
  readonly name: string;
  serve(req: DnsRequest, w: ResponseWriter): Promise<number> | number;
}

/** A plugin as the chain builds it: given the next handler, returns its own. */
export type PluginFactory = (next: Handler) => Handler;

export function clientWrote(rcode: number): boolean {
  return !(rcode === 2 || rcode === 5 || rcode === 1 || rcode === 4);
}

/** The end of every chain: nobody answered. */
export const terminal: Handler = {
  name: 'terminal',
  serve() {
    return 2; // SERVFAIL, as CoreDNS's NextOrFailure without a next plugin
  },
};
