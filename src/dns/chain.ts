// Execution order of the plugins, as data (CoreDNS's plugin.cfg): the order in a Corefile
// does not matter, this list does. Plugins that only start something (health, ready,
// prometheus, reload) have no place in the query path and are not listed here.
import type { Handler, PluginFactory } from './plugin.js';
import { terminal } from './plugin.js';

export const CHAIN_ORDER = ['errors', 'log', 'loadbalance', 'cache', 'kubernetes', 'loop', 'forward'] as const;
export type ChainPlugin = (typeof CHAIN_ORDER)[number];

/** Every plugin a Corefile may name, in the query path or not. */
export const KNOWN_PLUGINS = new Set<string>([...CHAIN_ORDER, 'health', 'ready', 'prometheus', 'reload']);

/** Builds the handler chain from the configured plugins, wrapping from the end. */
export function buildChain(factories: Partial<Record<ChainPlugin, PluginFactory>>): Handler {
  let next: Handler = terminal;
  for (let i = CHAIN_ORDER.length - 1; i >= 0; i--) {
    const f = factories[CHAIN_ORDER[i]!];
    if (f) next = f(next);
  }
  return next;
}
