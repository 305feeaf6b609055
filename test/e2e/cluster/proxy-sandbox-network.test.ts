// The netns sandbox's network as the proxy packet tests rely on it (src/node/netns/network.ts,
// driven directly): the fabric is the node network's router, and a pod given a gone pod's
// address is reachable from its node at once (no neighbour entry left with the old MAC).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import { runCommand, waitFor } from '../../helpers/cli.js';
import { Fabric } from '../../../src/node/netns/network.js';

const BACKEND = fileURLToPath(new URL('./proxy-backend.mjs', import.meta.url));
const CLIENT = fileURLToPath(new URL('./proxy-client.mjs', import.meta.url));
const POD_IP = '10.244.0.5';

describeE2E('netns sandbox network: router and reused pod addresses', { root: true, netns: true }, () => {
  const fabric = new Fabric(`kpsbn${process.pid % 100000}`, '192.168.109.0/24');
  const servers: ChildProcess[] = [];

  const ipOut = async (args: string[]) => {
    const r = await runCommand('ip', args);
    if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const mac = async (ns: string, dev: string) => (JSON.parse(await ipOut(['-n', ns, '-j', 'link', 'show', 'dev', dev])) as { address: string }[])[0]!.address;
  /** proxy-backend.mjs in a pod namespace, answering as `name` */
  const serve = async (ns: string, name: string) => {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, BACKEND], { env: { ...process.env, POD_NAME: name, UDP_PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    servers.push(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => out.includes('serving HTTP'), { what: `${name} listening` });
    return child;
  };
  const stop = (child: ChildProcess) =>
    new Promise<void>((res) => {
      if (child.exitCode !== null || child.signalCode !== null) return res();
      child.once('exit', () => res());
      child.kill('SIGKILL');
    });
  /** one request from the node namespace to the pod address: who answered, or the error */
  const ask = async (nodeNs: string) => {
    const r = await runCommand('ip', ['netns', 'exec', nodeNs, process.execPath, CLIENT, 'http', `http://${POD_IP}:8080/`, '1', '3000']);
    const t = JSON.parse(r.stdout) as { answers: Record<string, number>; errors: Record<string, number> };
    return Object.keys(t.answers)[0] ?? Object.keys(t.errors)[0];
  };

  beforeAll(async () => {
    await fabric.create();
    await fabric.addNode(0);
    await fabric.setPodCIDR(0, '10.244.0.0/24');
  });

  afterAll(async () => {
    await Promise.all(servers.map(stop));
    await fabric.destroy();
  });

  it('routes as the node network\'s router: the nodes\' default gateway, with a route to every podCIDR', async () => {
    expect(fabric.gateway).toBe('192.168.109.1');
    expect(await ipOut(['-n', fabric.fabricNs, '-4', 'addr', 'show', 'br0'])).toContain('inet 192.168.109.1/24');
    expect(await ipOut(['-n', fabric.fabricNs, 'route', 'show', '10.244.0.0/24'])).toContain('via 192.168.109.10');
    expect((await ipOut(['-n', fabric.nodeNsName(0), 'route', 'show', 'default'])).trim()).toMatch(/^default via 192\.168\.109\.1 dev eth0/);
  });

  it('a pod given a gone pod\'s address answers its node at once', async () => {
    const node = fabric.nodeNsName(0);
    const bridgeMac = await mac(node, 'cbr0');
    // Another pod keeps cbr0's carrier up when pod-a goes (the only port gone, the kernel
    // would drop the bridge's neighbour entries itself).
    await fabric.addPod(0, '10.244.0.4');
    const first = await fabric.addPod(0, POD_IP);
    const firstMac = await mac(first.ns, 'eth0');
    const a = await serve(first.ns, 'pod-a');
    expect(await ask(node)).toBe('pod-a');
    // The node now holds a neighbour entry for the address, with pod-a's MAC.
    expect(await ipOut(['-n', node, 'neigh', 'show', POD_IP])).toContain(firstMac);
    await stop(a);
    await fabric.removePod(first.ns);

    const second = await fabric.addPod(0, POD_IP);
    expect(await ipOut(['-n', node, 'neigh', 'show', POD_IP])).not.toContain(firstMac);
    await serve(second.ns, 'pod-b');
    // A stale entry would send this to pod-a's MAC until it aged out, tens of seconds.
    expect(await ask(node)).toBe('pod-b');
    // The pods' gateway kept its MAC through all that (a bridge left alone takes its lowest
    // port's, and the pods' cached gateway entries would go stale).
    expect(await mac(node, 'cbr0')).toBe(bridgeMac);
  });

  it('takes a removed node\'s podCIDR route off the router', async () => {
    await fabric.removeNode(0);
    expect((await ipOut(['-n', fabric.fabricNs, 'route', 'show', '10.244.0.0/24'])).trim()).toBe('');
  });
});
