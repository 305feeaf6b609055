// A pod's workload for proxy tests: HTTP answers "<name> <client address>", UDP echoes the same.
import { createServer } from 'node:http';
import { createSocket } from 'node:dgram';

const [name, httpPort, udpPort] = process.argv.slice(2);
createServer((req, res) => {
  res.setHeader('Connection', 'close');
  res.end(`${name} ${req.socket.remoteAddress}\n`);
}).listen(Number(httpPort), '0.0.0.0');
const udp = createSocket('udp4');
udp.on('message', (_msg, rinfo) => udp.send(`${name} ${rinfo.address}`, rinfo.port, rinfo.address));
udp.bind(Number(udpPort), '0.0.0.0');
process.on('SIGTERM', () => process.exit(0));
