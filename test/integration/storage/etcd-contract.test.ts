import { describeE2E } from '../../helpers/e2e.js';
import { openEtcdStore } from '../../../src/apiserver/storage/etcd.js';
import { storeContract } from '../../unit/storage/contract.js';
import { startEtcd, type EtcdServer } from './etcd-server.js';

describeE2E('etcd store', { commands: ['etcd'] }, () => {
  let etcd: EtcdServer | undefined;
  storeContract('etcd', {
    async open() {
      etcd = await startEtcd();
      return openEtcdStore({ endpoints: [etcd.endpoint] });
    },
    async cleanup() {
      await etcd?.stop();
    },
  });
});
