// real: deploy/grafana/kv-router.json and every semconv.ts of the repo, read from disk; mock: nothing.
//
// The dashboard may only query series the code exports (or vLLM exports, as semconv.ts lists
// them): a renamed metric must break this test, not leave an empty panel in production.
import { readFileSync } from 'node:fs';
import { DASHBOARD_PATH, dashboardQueries, definedMetrics, isDefined, metricNames, undefinedMetricProblems } from './grafana-promql';

interface Dashboard {
  uid?: string;
  title?: string;
  schemaVersion?: number;
  templating?: { list?: { name?: string; type?: string; query?: string }[] };
  panels?: { id?: number; type?: string; title?: string; datasource?: { uid?: string }; targets?: { expr?: string; datasource?: { uid?: string } }[] }[];
}

const dashboard = JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as Dashboard;
const defined = definedMetrics();
const queries = dashboardQueries(dashboard);

describe('PromQL metric-name extraction', () => {
  it('finds the selected series and skips functions, labels, ranges, grouping and variables', () => {
    expect(metricNames('histogram_quantile(0.99, sum by (le) (rate(kvr_gateway_routing_overhead_seconds_bucket{model=~"$model", pod!="x"}[$__rate_interval])))')).toEqual(['kvr_gateway_routing_overhead_seconds_bucket']);
    expect(metricNames('sum(rate(vllm:prefix_cache_hits_total[5m])) / sum(rate(vllm:prefix_cache_queries_total[5m] offset 1h))').sort()).toEqual(['vllm:prefix_cache_hits_total', 'vllm:prefix_cache_queries_total']);
    expect(metricNames('max by (state) (kvr_gateway_pods) > bool 0 and on (pod) up')).toEqual(['kvr_gateway_pods', 'up']);
    expect(metricNames('1 - avg(x_metric)')).toEqual(['x_metric']);
  });

  it('accepts the series Prometheus derives from a defined metric, and nothing else', () => {
    const names = new Map([
      ['kvr_a_seconds', 'semconv.ts'],
      ['kvr_b_total', 'semconv.ts'],
    ]);
    expect(isDefined('kvr_a_seconds_bucket', names)).toBe(true);
    expect(isDefined('kvr_a_seconds_count', names)).toBe(true);
    expect(isDefined('kvr_b_total', names)).toBe(true);
    expect(isDefined('kvr_b', names)).toBe(false);
    expect(isDefined('kvr_a_second_bucket', names)).toBe(false);
  });

  it('reports a misspelled metric in a query', () => {
    const problems = undefinedMetricProblems([{ panel: 'p', refId: 'A', expr: 'sum(rate(kvr_gateway_route_decision_total[5m]))' }], defined);
    expect(problems).toEqual(['p (A): kvr_gateway_route_decision_total is defined in no semconv.ts']);
  });
});

describe('deploy/grafana/kv-router.json', () => {
  it('queries only metrics the code defines (kvr_* and the vllm:* series semconv.ts lists)', () => {
    expect(queries.length).toBeGreaterThan(10);
    expect(undefinedMetricProblems(queries, defined)).toEqual([]);
  });

  it('covers what an operator needs to see', () => {
    const all = queries.map((q) => q.expr).join('\n');
    // routing decisions by reason, predicted vs observed hit rate, TTFT, consumer lag,
    // gaps and replays, fallbacks
    expect(all).toMatch(/sum by \(reason\) \(rate\(kvr_gateway_route_decisions_total/);
    expect(all).toContain('kvr_gateway_predicted_hit_ratio_sum');
    expect(all).toContain('vllm:prefix_cache_hits_total');
    expect(all).toContain('vllm:time_to_first_token_seconds_bucket');
    expect(all).toContain('kvr_indexer_consumer_lag');
    expect(all).toContain('kvr_collector_sequence_gaps_total');
    expect(all).toContain('kvr_collector_replays_total');
    expect(all).toContain('kvr_gateway_scorer_fallbacks_total');
  });

  it('is importable: a uid, a datasource variable every query uses, unique panel ids', () => {
    expect(dashboard.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    expect(dashboard.title).toBeTruthy();
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    const variable = dashboard.templating?.list?.find((v) => v.type === 'datasource');
    expect(variable).toMatchObject({ name: 'datasource', query: 'prometheus' });
    const panels = dashboard.panels ?? [];
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels.filter((panel) => panel.type !== 'row')) {
      expect({ panel: p.title, uid: p.datasource?.uid }).toEqual({ panel: p.title, uid: '${datasource}' });
      for (const t of p.targets ?? []) expect({ panel: p.title, uid: t.datasource?.uid }).toEqual({ panel: p.title, uid: '${datasource}' });
    }
  });
});
