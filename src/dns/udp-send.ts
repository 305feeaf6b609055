// Sending a UDP reply without dgram.Socket#send's per-call work. Socket#send validates its
// arguments, resolves the destination through dns.lookup (an IP literal still costs a
// closure and a process.nextTick) and only then hands the buffer to the socket handle. A
// DNS reply goes back to the address the query came from, always an IP, so the server
// calls the handle's send directly, as Socket#send finally does. That handle is Node's
// internal UDPWrap: where it cannot be found (another runtime, a future Node) the public
// Socket#send is used, with the same effect.
//
// The handle first tries to send at once (uv_udp_try_send) and says so by returning the
// byte count + 1; only when the kernel queue is full does it keep the request object and
// the buffers for a later send. So one request object serves every reply sent at once, and
// the caller learns whether it may reuse its buffer.
import type dgram from 'node:dgram';

/** Sends `buf`; true when the bytes are no longer needed (sent, or failed), false while they are queued. */
export type UdpSend = (buf: Buffer, port: number, address: string) => boolean;

/** A sender, and whether it found the socket's handle (false: Socket#send). */
export type UdpSender = UdpSend & { readonly direct: boolean };

interface UdpHandle {
  send(req: object, list: Buffer[], count: number, port: number, address: string, hasCallback: boolean): number;
}

type SendWrapClass = new () => { list?: Buffer[] };

let sendWrap: SendWrapClass | null | undefined;

function sendWrapClass(): SendWrapClass | null {
  if (sendWrap !== undefined) return sendWrap;
  sendWrap = null;
  try {
    // process.binding is deprecated but kept for udp_wrap on Node 20-24; no warning by default.
    const binding = (process as unknown as { binding(name: string): { SendWrap?: SendWrapClass } }).binding('udp_wrap');
    if (typeof binding.SendWrap === 'function') sendWrap = binding.SendWrap;
  } catch {
    // Not available: the public path is used.
  }
  return sendWrap;
}

/** dgram's per-socket state (Node 20-24 keep it under a symbol described 'state symbol'). */
export function socketState(socket: dgram.Socket): { handle?: unknown } | undefined {
  const sym = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  const state = sym ? (socket as unknown as Record<symbol, unknown>)[sym] : undefined;
  return typeof state === 'object' && state !== null ? (state as { handle?: unknown }) : undefined;
}

/** A send function for replies on a bound socket. */
export function udpSender(socket: dgram.Socket, opts: { direct?: boolean } = {}): UdpSender {
  const publicSend: UdpSend = (buf, port, address) => {
    socket.send(buf, port, address);
    return false;
  };
  const SendWrap = opts.direct === false ? null : sendWrapClass();
  const state = SendWrap ? socketState(socket) : undefined;
  if (!SendWrap || !state || typeof (state.handle as UdpHandle | undefined)?.send !== 'function') return Object.assign(publicSend, { direct: false });
  const list: Buffer[] = [];
  let req = new SendWrap();
  const directSend: UdpSend = (buf, port, address) => {
    const handle = state.handle as UdpHandle | undefined;
    // Closed (or never bound): let the public path raise what it raises.
    if (!handle) return publicSend(buf, port, address);
    list[0] = buf;
    const r = handle.send(req, list, 1, port, address, false);
    if (r > 0) return true;
    if (r === 0) {
      // Queued: the handle now owns this request, and the bytes must outlive the call.
      req.list = [buf];
      req = new SendWrap();
      return false;
    }
    // Failed (as Socket#send without a callback, the error is dropped); the request may
    // have been wrapped before the failure, so it is not used again.
    req = new SendWrap();
    return true;
  };
  return Object.assign(directSend, { direct: true });
}
