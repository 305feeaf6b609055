// Where a node component's informers come from: an API server (kubeconfig, KUBECONFIG,
// in-cluster, as client-go loads them) or, with --objects, a file of objects.
import type { Options } from './command.js';
import { UsageError } from './command.js';
import type { FlagSpec } from './flags.js';
import type { InformerFactory } from '../client/informer.js';
import type { RestClient } from '../client/rest.js';

export const apiSourceFlags: FlagSpec[] = [
  { name: 'kubeconfig', type: 'string', help: 'path to a kubeconfig file (default: KUBECONFIG, ~/.kube/config, then the in-cluster service account)' },
  { name: 'master', type: 'string', help: "the API server's address; overrides the kubeconfig's server" },
];

export interface InformerSource {
  factory: InformerFactory;
  /** the REST client when the source is an API server (for status writes and Events) */
  client?: RestClient;
  close(): Promise<void>;
}

/** Opens the informer source the flags ask for; a bad kubeconfig is a usage error. */
export async function openInformers(opts: Options, component: string): Promise<InformerSource> {
  const objects = opts.optionalString('objects');
  if (objects) {
    const { FileInformerFactory } = await import('../client/file-informers.js');
    const factory = new FileInformerFactory(objects, { watch: true });
    return { factory, close: () => factory.stop() };
  }
  const { connect } = await import('../client/connect.js');
  const { ConfigError } = await import('../client/config.js');
  try {
    const conn = connect({ kubeconfig: opts.optionalString('kubeconfig'), master: opts.optionalString('master'), component });
    return { factory: conn.informers, client: conn.client, close: () => conn.close() };
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(`${err.message} (or give --objects FILE)`);
    throw err;
  }
}
