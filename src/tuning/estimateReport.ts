import type { EstimateResult, LevelEconomics } from './estimate.js';

/** What was sampled, for the report's header. */
export interface EstimateMeta {
  readonly url: string;
  readonly objectsListed: number;
  readonly listingTruncated: boolean;
  readonly objectsSampled: number;
  readonly sampleBytes: number;
  readonly date: string;
}

const money = (n: number) => `${n < 0 ? '-' : ''}$${Math.abs(n).toFixed(2)}`;
const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

function levelName(level: number): string {
  return level === 0 ? '0 (store)' : String(level);
}

/** Plain-text report (the TTY form). */
export function formatEstimate(r: EstimateResult, meta: EstimateMeta): string {
  const a = r.assumptions;
  const lines: string[] = [];
  lines.push(
    `${meta.url}: sampled ${meta.objectsSampled} of ${meta.objectsListed}${meta.listingTruncated ? '+' : ''} objects, ${mb(meta.sampleBytes)}`,
    `prices: $${a.dataTransferCostPerGB}/GB between regions × ${a.regions} region(s), $${a.fargateCostPerMinute}/min compute, ` +
      `staging $${a.stagingCostPerGBMonth}/GB-month for ${a.stagingDays} day(s)`,
    '',
    'level        ratio     MB/s   plain $/TiB   baler $/TiB   saved $/TiB',
  );
  for (const l of r.levels) {
    lines.push(
      `${(levelName(l.level) + (l.level === r.recommended ? ' *' : '')).padEnd(11)}${l.ratio.toFixed(2).padStart(7)}${l.mbps
        .toFixed(1)
        .padStart(
          9,
        )}${money(l.plainPerTiB).padStart(14)}${money(l.balerPerTiB).padStart(14)}${money(l.netPerTiB).padStart(14)}`,
    );
  }
  lines.push(
    '',
    `recommended level: ${levelName(r.recommended)} (*)`,
    `fixed costs: ${money(r.fixedMonthly)}/month (VPC endpoints $${a.vpcEndpointCostPerRegionMonth} × ${1 + a.regions} regions)`,
    r.breakEvenGiBPerMonth === null
      ? 'break-even: never — at these prices compressing this data does not pay; use plain S3 replication'
      : `break-even: baler beats plain S3 replication above ${Math.ceil(r.breakEvenGiBPerMonth).toLocaleString('en-US')} GiB/month`,
  );
  return lines.join('\n');
}

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

/** Inline SVG bar chart of saved $/TiB per level (negative bars go down). */
function chart(levels: readonly LevelEconomics[], recommended: number): string {
  const w = 640;
  const h = 260;
  const pad = 40;
  const max = Math.max(...levels.map((l) => l.netPerTiB), 0);
  const min = Math.min(...levels.map((l) => l.netPerTiB), 0);
  const span = max - min || 1;
  const y = (v: number) => pad + ((max - v) / span) * (h - 2 * pad);
  const bw = (w - 2 * pad) / levels.length;
  const bars = levels
    .map((l, i) => {
      const x = pad + i * bw + bw * 0.15;
      const top = Math.min(y(l.netPerTiB), y(0));
      const height = Math.max(1, Math.abs(y(l.netPerTiB) - y(0)));
      const fill = l.level === recommended ? '#2b8a3e' : l.netPerTiB >= 0 ? '#74a9cf' : '#e34a33';
      return (
        `<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${(bw * 0.7).toFixed(1)}" height="${height.toFixed(1)}" fill="${fill}"><title>level ${l.level}: ${money(l.netPerTiB)}/TiB</title></rect>` +
        `<text x="${(x + bw * 0.35).toFixed(1)}" y="${h - pad + 16}" text-anchor="middle" font-size="12">${l.level}</text>`
      );
    })
    .join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" role="img" aria-label="saved dollars per TiB by zstd level">` +
    `<line x1="${pad}" x2="${w - pad}" y1="${y(0).toFixed(1)}" y2="${y(0).toFixed(1)}" stroke="#333"/>` +
    `<text x="4" y="${pad - 10}" font-size="12">saved $/TiB (max ${money(max)})</text>${bars}` +
    `<text x="${w / 2}" y="${h - 4}" text-anchor="middle" font-size="12">zstd level (0 = store)</text></svg>`
  );
}

/** A single self-contained HTML page: no scripts, styles inline, chart as inline SVG, no network access. */
export function estimateHtml(r: EstimateResult, meta: EstimateMeta): string {
  const rows = r.levels
    .map(
      (l) =>
        `<tr${l.level === r.recommended ? ' class="rec"' : ''}><td>${escapeHtml(levelName(l.level))}</td><td>${l.ratio.toFixed(2)}</td><td>${l.mbps.toFixed(1)}</td>` +
        `<td>${money(l.plainPerTiB)}</td><td>${money(l.balerPerTiB)}</td><td>${money(l.netPerTiB)}</td></tr>`,
    )
    .join('\n');
  const text = escapeHtml(formatEstimate(r, meta));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>baler estimate: ${escapeHtml(meta.url)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:60em}table{border-collapse:collapse}td,th{padding:.3em .8em;text-align:right;border-bottom:1px solid #ddd}tr.rec{background:#e6f4ea;font-weight:bold}pre{background:#f6f6f6;padding:1em}</style>
</head><body>
<h1>Compression estimate</h1>
<p>${escapeHtml(meta.url)} — ${escapeHtml(meta.date)}</p>
${chart(r.levels, r.recommended)}
<table><thead><tr><th>level</th><th>ratio</th><th>MB/s</th><th>plain $/TiB</th><th>baler $/TiB</th><th>saved $/TiB</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<pre>${text}</pre>
</body></html>
`;
}
