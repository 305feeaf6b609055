import { ApiInformerFactory, type ApiInformerFactoryOptions } from './api-informers.js';
import { loadClientConfig, type ClientConfig, type LoadOptions } from './config.js';
import { RestClient, type RestClientOptions } from './rest.js';

export interface ConnectOptions extends LoadOptions {
  /** kube-proxy's --master: overrides the kubeconfig's server */
  master?: string;
  /** who we are in the server's logs, e.g. "kubeplane-proxy" */
  component?: string;
  rest?: RestClientOptions;
  informers?: ApiInformerFactoryOptions;
}

export interface Connection {
  config: ClientConfig;
  client: RestClient;
  informers: ApiInformerFactory;
  close(): Promise<void>;
}

/**
 * What a component does at start-up to reach the API: load the configuration as client-go
 * would (--kubeconfig, KUBECONFIG, ~/.kube/config, in-cluster), make a REST client and an
 * informer factory on it. Throws ConfigError, whose message is fit for the user.
 */
export function connect(opts: ConnectOptions = {}): Connection {
  const config = loadClientConfig({ ...opts, server: opts.master ?? opts.server });
  const client = new RestClient(config, { userAgent: opts.component ? `${opts.component}/0.1 (${process.platform}/${process.arch}) kubeplane` : undefined, ...opts.rest });
  const informers = new ApiInformerFactory(client, opts.informers);
  return {
    config,
    client,
    informers,
    async close() {
      await informers.stop();
      await client.close();
    },
  };
}
