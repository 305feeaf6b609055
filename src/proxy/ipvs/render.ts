import type { ProxyState } from '../model/snapshot.js';
import type { IptablesRenderConfig } from '../iptables/render.js';

export function renderIpvs(_state: ProxyState, _cfg: IptablesRenderConfig): string {
  return '# ipvs: not rendered yet\n';
}
