/**
 * Metric names in the dashboard's PromQL, and the metric names the code defines (every
 * `semconv.ts`: the product's own `kvr_*` series and the `vllm:*` series it documents, which
 * vLLM exports and the simulator mirrors).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from './helm-binaries';

export const DASHBOARD_PATH = join(REPO_ROOT, 'deploy', 'grafana', 'kv-router.json');

/** Words that may stand where a metric name could: operators, modifiers, grouping keywords. */
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'atan2', 'inf', 'nan']);

/**
 * Metric names an expression selects. Strings, label matchers `{…}`, range and subquery
 * brackets `[…]`, grouping label lists and Grafana variables are removed first; what remains
 * that is an identifier not followed by `(` (a function or aggregation) is a metric name.
 */
export function metricNames(expr: string): string[] {
  let text = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  text = text.replace(/\{[^}]*\}/g, ' ');
  text = text.replace(/\[[^\]]*\]/g, ' ');
  text = text.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  text = text.replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g, ' ');
  const names = new Set<string>();
  for (const match of text.matchAll(/(?<![A-Za-z0-9_:.])([A-Za-z_:][A-Za-z0-9_:]*)(?![A-Za-z0-9_:])(\s*\()?/g)) {
    const word = match[1] ?? '';
    if (match[2] !== undefined || KEYWORDS.has(word.toLowerCase())) continue;
    if (/^\d/.test(word)) continue;
    names.add(word);
  }
  return [...names];
}

function semconvFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) semconvFiles(path, out);
    else if (name === 'semconv.ts') out.push(path);
  }
  return out;
}

/** Metric names defined in the semconv files, with the file each came from. */
export function definedMetrics(): Map<string, string> {
  const metrics = new Map<string, string>();
  const files = [...semconvFiles(join(REPO_ROOT, 'libs')), ...semconvFiles(join(REPO_ROOT, 'apps'))];
  for (const file of files) {
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(/export const (?:METRIC|VLLM)_[A-Z0-9_]+\s*=\s*'([^']+)'/g)) {
      metrics.set(match[1] ?? '', relative(REPO_ROOT, file));
    }
  }
  if (metrics.size === 0) throw new Error('no metric names found in any semconv.ts');
  return metrics;
}

/** Series Prometheus derives from a defined metric: histogram parts and counters' `_total`. */
const SUFFIXES = ['_total', '_bucket', '_sum', '_count'];

/** Whether a queried name is a defined metric or one of the series Prometheus derives from it. */
export function isDefined(name: string, defined: ReadonlyMap<string, string>): boolean {
  if (defined.has(name)) return true;
  return SUFFIXES.some((suffix) => name.endsWith(suffix) && defined.has(name.slice(0, -suffix.length)));
}

export interface DashboardQuery {
  panel: string;
  refId: string;
  expr: string;
}

interface Panel {
  title?: string;
  targets?: { refId?: string; expr?: string }[];
  panels?: Panel[];
}

/** Every PromQL expression of a dashboard, rows' nested panels included. */
export function dashboardQueries(dashboard: { panels?: Panel[] }): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  const walk = (panels: readonly Panel[]): void => {
    for (const p of panels) {
      for (const t of p.targets ?? []) if (t.expr) out.push({ panel: p.title ?? '?', refId: t.refId ?? '?', expr: t.expr });
      walk(p.panels ?? []);
    }
  };
  walk(dashboard.panels ?? []);
  return out;
}

/** One message per queried metric that the code does not define. */
export function undefinedMetricProblems(queries: readonly DashboardQuery[], defined: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  for (const q of queries) {
    const names = metricNames(q.expr);
    if (names.length === 0) problems.push(`${q.panel} (${q.refId}): selects no metric: ${q.expr}`);
    for (const name of names) if (!isDefined(name, defined)) problems.push(`${q.panel} (${q.refId}): ${name} is defined in no semconv.ts`);
  }
  return problems;
}
