// real: the Nx project graph of this workspace (`nx graph --file`); mock: nothing.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
const TYPES = ['type:app', 'type:domain', 'type:adapter', 'type:contract', 'type:util', 'type:testing', 'type:tool'];

interface Graph {
  graph: {
    nodes: Record<string, { name: string; type: string; data: { root: string; tags?: string[] } }>;
    dependencies: Record<string, { source: string; target: string; type: string }[]>;
  };
}

let graph: Graph['graph'];

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'kvr-graph-'));
  try {
    const file = join(dir, 'graph.json');
    const run = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'nx', 'dist', 'bin', 'nx.js'), 'graph', `--file=${file}`], {
      cwd: ROOT,
      env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
      encoding: 'utf8',
    });
    if (run.status !== 0) throw new Error(`nx graph failed: ${run.stderr}${run.stdout}`);
    graph = (JSON.parse(readFileSync(file, 'utf8')) as Graph).graph;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

describe('Nx project graph', () => {
  it('has the apps and libs of the design', () => {
    const names = Object.keys(graph.nodes);
    for (const expected of ['contracts', 'config', 'telemetry', 'runtime', 'testing', 'kv-events', 'block-keys', 'kvctl', 'kvr']) {
      expect(names).toContain(expected);
    }
  });

  it('tags every project with exactly one type and one scope', () => {
    for (const node of Object.values(graph.nodes)) {
      const tags = node.data.tags ?? [];
      expect({ project: node.name, types: tags.filter((t) => TYPES.includes(t)).length }).toEqual({ project: node.name, types: 1 });
      expect({ project: node.name, scopes: tags.filter((t) => t.startsWith('scope:')).length }).toEqual({ project: node.name, scopes: 1 });
    }
  });

  it('has no app depending on another app', () => {
    const apps = new Set(Object.values(graph.nodes).filter((n) => n.data.tags?.includes('type:app')).map((n) => n.name));
    const appToApp = Object.values(graph.dependencies)
      .flat()
      .filter((edge) => apps.has(edge.source) && apps.has(edge.target));
    expect(appToApp).toEqual([]);
  });

  it('keeps domain libs free of dependencies on util, adapter, testing and app projects', () => {
    const typeOf = (name: string): string | undefined => graph.nodes[name]?.data.tags?.find((t) => TYPES.includes(t));
    const bad = Object.values(graph.dependencies)
      .flat()
      .filter((edge) => typeOf(edge.source) === 'type:domain' && graph.nodes[edge.target] !== undefined)
      .filter((edge) => !['type:domain', 'type:contract', 'type:util'].includes(typeOf(edge.target) ?? ''));
    // Spec files may use the test harness; the lint rule checks production files precisely.
    expect(bad.filter((edge) => typeOf(edge.target) !== 'type:testing')).toEqual([]);
  });
});
