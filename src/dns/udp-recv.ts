// Receiving UDP queries without the 'message' event. Node's UDP handle calls its
// `onmessage(nread, handle, buf, rinfo)` for every datagram; dgram's own function adds a
// `size` property to rinfo (a hidden-class change per datagram) and emits 'message'. The
// server installs its listener there instead, once the socket is bound (a cluster worker
// gets its handle from the primary at bind). Where the handle or that hook is not found
// (another runtime, a future Node) the public 'message' event is used, with the same effect.
import type dgram from 'node:dgram';
import { socketState } from './udp-send.js';

/** Called with each datagram; `address` and `port` are the sender's. */
export type UdpListener = (msg: Buffer, address: string, port: number) => void;

interface RemoteInfo {
  address: string;
  port: number;
}

interface RecvHandle {
  onmessage?: (nread: number, handle: unknown, buf: Buffer, rinfo: RemoteInfo) => void;
}

/**
 * Delivers the bound socket's datagrams to `listener`; returns true when it took the
 * handle's hook, false when it fell back to the 'message' event. Receive errors still
 * reach the socket's 'error' event.
 */
export function onUdpDatagrams(socket: dgram.Socket, listener: UdpListener, opts: { direct?: boolean } = {}): boolean {
  const handle = opts.direct === false ? undefined : (socketState(socket)?.handle as RecvHandle | undefined);
  // dgram's own hook takes exactly these four arguments; anything else is a Node we do not know.
  if (!handle || typeof handle.onmessage !== 'function' || handle.onmessage.length !== 4) {
    socket.on('message', (msg: Buffer, rinfo: dgram.RemoteInfo) => listener(msg, rinfo.address, rinfo.port));
    return false;
  }
  handle.onmessage = (nread, _handle, buf, rinfo) => {
    if (nread < 0) {
      const err = new Error(`recvmsg failed (${nread})`) as NodeJS.ErrnoException;
      err.errno = nread;
      err.syscall = 'recvmsg';
      socket.emit('error', err);
      return;
    }
    listener(buf, rinfo.address, rinfo.port);
  };
  return true;
}
