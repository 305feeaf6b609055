// Sends one datagram from a fixed source port and prints the reply (or "timeout").
import { createSocket } from 'node:dgram';
const [host, port, srcPort, timeoutMs] = process.argv.slice(2);
const s = createSocket({ type: 'udp4', reuseAddr: true });
s.bind(Number(srcPort), () => {
  const t = setTimeout(() => {
    process.stdout.write('timeout\n');
    process.exit(0);
  }, Number(timeoutMs ?? 1000));
  s.on('message', (m) => {
    clearTimeout(t);
    process.stdout.write(m.toString() + '\n');
    process.exit(0);
  });
  s.send('ping', Number(port), host);
});
