// A backend pod's program for the proxy packet tests: every HTTP request and every UDP
// datagram is answered with "<pod name> <client address>", so a test sees which endpoint
// answered and whether the client's source address survived the node's rules.
// HTTP_PORT (default 8080) and UDP_PORT (default 5353, 0 = none); exits at once on SIGTERM.
import { createSocket } from 'node:dgram';
import { createServer } from 'node:http';

const name = process.env.POD_NAME || process.env.HOSTNAME || 'unknown';
const httpPort = Number(process.env.HTTP_PORT || 8080);
const udpPort = Number(process.env.UDP_PORT ?? 5353);
const who = (address) => `${name} ${String(address).replace(/^::ffff:/, '')}`;

const http = createServer((req, res) => {
  // One request per connection: each request is a new flow through the proxy's rules.
  res.setHeader('Connection', 'close');
  res.end(`${who(req.socket.remoteAddress)}\n`);
});
http.listen(httpPort, () => console.log(`${name} serving HTTP on ${httpPort}`));
if (udpPort) {
  const udp = createSocket('udp4');
  udp.on('message', (_msg, rinfo) => udp.send(who(rinfo.address), rinfo.port, rinfo.address));
  udp.bind(udpPort, () => console.log(`${name} serving UDP on ${udpPort}`));
}
process.on('SIGTERM', () => {
  console.log(`${name} got SIGTERM`);
  process.exit(0);
});
