// An EndpointSlice storm through the API, with the project's own client (from dist/): every
// slice gets `changes` merge-patches in a row, all slices at once, each patch replacing the
// slice's endpoints with a new generation of addresses. Prints `DONE <json>` at the end.
//
// usage: storm.mjs <kubeconfig> <changesPerSlice> <endpointsPerSlice> <sliceName>...
// Slice number s (its position in the list), generation g, endpoint j gets 10.<200+s>.<g>.<j+1>.
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const { loadClientConfig } = await import(resolve(root, 'dist/client/config.js'));
const { RestClient } = await import(resolve(root, 'dist/client/rest.js'));
const { resourceFor } = await import(resolve(root, 'dist/api/resources.js'));

const [kubeconfig, changesText, perSliceText, ...slices] = process.argv.slice(2);
const changes = Number(changesText);
const perSlice = Number(perSliceText);
const info = resourceFor('discovery.k8s.io', 'endpointslices');
const client = new RestClient(loadClientConfig({ kubeconfig }), { timeoutMs: 30_000 });

export const addresses = (s, g) => Array.from({ length: perSlice }, (_, j) => `10.${200 + s}.${g}.${j + 1}`);

let ok = 0;
const errors = [];
const started = Date.now();
await Promise.all(
  slices.map(async (name, s) => {
    for (let g = 1; g <= changes; g++) {
      const endpoints = addresses(s, g).map((a) => ({ addresses: [a], conditions: { ready: true }, nodeName: 'node1' }));
      try {
        await client.patch(info, name, { endpoints }, 'merge', { namespace: 'default' });
        ok++;
      } catch (err) {
        errors.push(`${name}@${g}: ${err.message}`);
      }
    }
  }),
);
const ms = Date.now() - started;
await client.close();
process.stdout.write(`DONE ${JSON.stringify({ ok, errors: errors.slice(0, 10), errorCount: errors.length, ms })}\n`);
