import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { repoRoot } from './cli.js';

export const chartDir = resolve(repoRoot, 'charts/kubeplane');

/** Builds test/helpers/helm-render (Go text/template + sprig, Helm's rendering core) into a temp dir. */
export function buildHelmRender(): { bin: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'kp-helm-'));
  const bin = join(dir, 'helm-render');
  execFileSync('go', ['build', '-o', bin, '.'], {
    cwd: resolve(repoRoot, 'test/helpers/helm-render'),
    env: { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOCACHE: join(dir, 'cache'), GOFLAGS: '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return { bin, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b) ? deepMerge(b as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

export interface Rendered {
  /** the manifests, as `helm template` prints them */
  text: string;
  objects: Record<string, any>[];
  notes: string;
}

/** Renders the chart with values.yaml overlaid by `overrides` (like `helm template -f`). */
export function renderChart(bin: string, overrides: Record<string, unknown> = {}, release = 'kp', namespace = 'kube-system'): Rendered {
  const values = deepMerge(parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as Record<string, unknown>, overrides);
  // helm-render prints the manifests on stdout and NOTES.txt (or the error) on stderr.
  const r = spawnSync(bin, [chartDir, release, namespace], { input: JSON.stringify(values), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`chart rendering failed: ${r.stderr.trim()}`);
  const text = r.stdout;
  const notes = r.stderr;
  const objects = parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`rendered chart is not valid YAML: ${d.errors[0]!.message}`);
      return d.toJS() as Record<string, any> | null;
    })
    .filter((o): o is Record<string, any> => o !== null);
  return { text, objects, notes };
}
