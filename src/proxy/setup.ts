import type { ProxyConfig } from './config.js';
export async function runProxy(_cfg: ProxyConfig, _opts: { objectsFile: string; stateDir: string }): Promise<number> {
  process.stderr.write('kubeplane proxy: runner not built yet\n');
  return 1;
}
export async function cleanup(): Promise<number> {
  return 1;
}
