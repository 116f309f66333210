import type { ModeRun, ModeSummary, StageSummary } from './stats';

const escapeXml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const fixed = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : '–');

/** Per-stage table of one mode, in the reference report's columns. */
export function stageTable(run: ModeRun): string {
  const lines = [
    `| rate (req/s) | requests | failed | TTFT mean (s) | TTFT p90 (s) | ITL mean (ms) | e2e mean (s) | output tok/s | req/s | prefix hit rate |`,
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const s of run.stages as StageSummary[]) {
    lines.push(`| ${s.rate} | ${s.requests} | ${s.failed} | ${fixed(s.ttftMeanS, 3)} | ${fixed(s.ttftP90S, 3)} | ${fixed(s.itlMeanMs, 1)} | ${fixed(s.e2eMeanS, 2)} | ${fixed(s.outputTokensPerS, 0)} | ${fixed(s.requestsPerS, 2)} | ${fixed(s.prefixHitRate * 100, 1)} % |`);
  }
  return lines.join('\n');
}

/** Summary table: one row per mode. */
export function summaryTable(summaries: readonly ModeSummary[]): string {
  const lines = ['| mode | TTFT mean (s) | TTFT p90 (s) | ITL mean (ms) | output tok/s | req/s | prefix hit rate |', '|---|---:|---:|---:|---:|---:|---:|'];
  for (const s of summaries) {
    lines.push(`| ${s.mode} | ${fixed(s.ttftMeanS, 3)} | ${fixed(s.ttftP90S, 3)} | ${fixed(s.itlMeanMs, 1)} | ${fixed(s.outputTokensPerS, 0)} | ${fixed(s.requestsPerS, 2)} | ${fixed(s.prefixHitRate * 100, 1)} % |`);
  }
  return lines.join('\n');
}

/**
 * A line chart as a standalone SVG: one series per mode, x = rate, y = a stage measure.
 * Plain SVG (no dependency); viewable in a browser and on GitHub.
 */
export function lineChartSvg(title: string, yLabel: string, runs: readonly ModeRun[], measure: (s: StageSummary) => number): string {
  const width = 640;
  const height = 360;
  const pad = { left: 64, right: 120, top: 36, bottom: 44 };
  const points = runs.flatMap((r) => r.stages.map((s) => ({ x: s.rate, y: measure(s) }))).filter((p) => Number.isFinite(p.y));
  const maxX = Math.max(1, ...points.map((p) => p.x));
  const maxY = Math.max(1e-9, ...points.map((p) => p.y)) * 1.1;
  const sx = (x: number): number => pad.left + (x / maxX) * (width - pad.left - pad.right);
  const sy = (y: number): number => height - pad.bottom - (y / maxY) * (height - pad.top - pad.bottom);
  const colours = ['#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`,
    `<line x1="${pad.left}" y1="${height - pad.bottom}" x2="${width - pad.right}" y2="${height - pad.bottom}" stroke="black"/>`,
    `<line x1="${pad.left}" y1="${pad.top}" x2="${pad.left}" y2="${height - pad.bottom}" stroke="black"/>`,
    `<text x="${(pad.left + width - pad.right) / 2}" y="${height - 8}" text-anchor="middle">rate (req/s)</text>`,
    `<text x="16" y="${(pad.top + height - pad.bottom) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(pad.top + height - pad.bottom) / 2})">${escapeXml(yLabel)}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const y = (maxY * i) / 4;
    parts.push(`<text x="${pad.left - 6}" y="${sy(y) + 4}" text-anchor="end">${y >= 100 ? y.toFixed(0) : y.toPrecision(2)}</text>`);
  }
  for (const rate of [...new Set(points.map((p) => p.x))]) parts.push(`<text x="${sx(rate)}" y="${height - pad.bottom + 16}" text-anchor="middle">${rate}</text>`);
  runs.forEach((run, i) => {
    const colour = colours[i % colours.length] as string;
    const series = run.stages.filter((s) => Number.isFinite(measure(s))).map((s) => `${sx(s.rate).toFixed(1)},${sy(measure(s)).toFixed(1)}`);
    parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${series.join(' ')}"/>`);
    for (const point of series) {
      const [x, y] = point.split(',');
      parts.push(`<circle cx="${x}" cy="${y}" r="3" fill="${colour}"/>`);
    }
    parts.push(`<text x="${width - pad.right + 10}" y="${pad.top + 16 * (i + 1)}" fill="${colour}">${escapeXml(run.mode)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
