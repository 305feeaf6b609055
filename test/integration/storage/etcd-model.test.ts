import fc from 'fast-check';
import { afterAll, beforeAll, it } from 'vitest';
import { describeE2E } from '../../helpers/e2e.js';
import type { Store } from '../../../src/apiserver/storage/interface.js';
import { openEtcdStore } from '../../../src/apiserver/storage/etcd.js';
import { runSteps, stepsArb } from '../../unit/storage/model.js';
import { startEtcd, type EtcdServer } from './etcd-server.js';

// etcd is shared by the runs, so each gets its own prefix; compaction is left to the contract
// suite here because it writes compact_rev_key, a revision the model does not predict.
describeE2E('etcd store against a model', { commands: ['etcd'] }, () => {
  let etcd: EtcdServer | undefined;
  let store: Store | undefined;
  beforeAll(async () => {
    etcd = await startEtcd();
    store = await openEtcdStore({ endpoints: [etcd.endpoint] });
  });
  afterAll(async () => {
    await store?.close();
    await etcd?.stop();
  });

  let run = 0;
  it('random histories with txns', async () => {
    await fc.assert(
      fc.asyncProperty(stepsArb({ compact: false }), async (steps) => {
        await runSteps(store!, steps, `/registry/model${++run}/`);
      }),
      { numRuns: 25 },
    );
  });
});
