import type { IncomingHttpHeaders } from 'node:http';

/**
 * What the proxy reads of a request and writes of a response: met by Node's HTTP/1.1 and
 * HTTP/2 compatibility objects and by the plain-HTTP fast path's (h1server.ts).
 */
export interface ClientRequest {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly socket: { readonly remoteAddress?: string | undefined };
}
export interface ClientResponse {
  readonly headersSent: boolean;
  readonly destroyed: boolean;
  readonly writableFinished: boolean;
  writeHead(status: number, headers?: Record<string, string | string[]> | string[]): unknown;
  write(chunk: Buffer): boolean;
  end(chunk?: string | Buffer): unknown;
  destroy(): void;
  once(event: 'close' | 'drain', listener: () => void): unknown;
  addTrailers(trailers: Record<string, string>): void;
}
