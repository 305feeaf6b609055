// Sending a UDP reply without dgram.Socket#send's per-call work. Socket#send validates its
// arguments, resolves the destination through dns.lookup (an IP literal still costs a
// closure and a process.nextTick) and only then hands the buffer to the socket handle. A
// DNS reply goes back to the address the query came from, always an IP, so the server
// calls the handle's send directly, as Socket#send finally does. That handle is Node's
// internal UDPWrap: where it cannot be found (another runtime, a future Node) the public
// Socket#send is used, with the same effect.
import type dgram from 'node:dgram';

export type UdpSend = (buf: Buffer, port: number, address: string) => void;

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

function stateOf(socket: dgram.Socket): { handle?: UdpHandle } | undefined {
  const sym = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  return sym ? (socket as unknown as Record<symbol, { handle?: UdpHandle }>)[sym] : undefined;
}

/** A send function for replies on a bound socket. */
export function udpSender(socket: dgram.Socket, opts: { direct?: boolean } = {}): UdpSender {
  const publicSend: UdpSend = (buf, port, address) => socket.send(buf, port, address);
  const SendWrap = opts.direct === false ? null : sendWrapClass();
  const state = SendWrap ? stateOf(socket) : undefined;
  if (!SendWrap || !state || typeof state.handle?.send !== 'function') return Object.assign(publicSend, { direct: false });
  const directSend: UdpSend = (buf, port, address) => {
    const handle = state.handle;
    // Closed (or never bound): let the public path raise what it raises.
    if (!handle) return publicSend(buf, port, address);
    const req = new SendWrap();
    // Kept on the request so the bytes stay alive if the kernel queue is full and libuv sends later.
    req.list = [buf];
    handle.send(req, req.list, 1, port, address, false);
  };
  return Object.assign(directSend, { direct: true });
}
