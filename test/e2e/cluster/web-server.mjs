// The pods' program in the cluster tests: answers every request with its pod name, and has
// switches a test flips from inside the pod: /fail-ready and /recover-ready drive /readyz
// (the readiness probe's path), /fail-live makes /livez (the liveness probe's) fail.
// On SIGTERM it keeps serving for TERM_DELAY_MS, as a server draining connections would.
import { createServer } from 'node:http';

const name = process.env.POD_NAME || process.env.HOSTNAME || 'unknown';
let ready = true;
let live = true;
const server = createServer((req, res) => {
  switch (req.url) {
    case '/readyz':
      res.statusCode = ready ? 200 : 503;
      return res.end(ready ? 'ok\n' : 'not ready\n');
    case '/livez':
      res.statusCode = live ? 200 : 500;
      return res.end(live ? 'ok\n' : 'dead\n');
    case '/fail-ready':
      ready = false;
      break;
    case '/recover-ready':
      ready = true;
      break;
    case '/fail-live':
      live = false;
      break;
  }
  res.end(`${name}${process.env.VERSION ? ` ${process.env.VERSION}` : ''}\n`);
});
server.listen(Number(process.env.PORT || 8080), () => console.log(`${name} serving on ${server.address().port}`));
process.on('SIGTERM', () => {
  console.log(`${name} got SIGTERM`);
  setTimeout(() => process.exit(0), Number(process.env.TERM_DELAY_MS || 0));
});
