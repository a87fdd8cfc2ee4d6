/** The proxy benchmark's results as one markdown table, side by side, with ratios and targets. */
import type { BulkReport, TunnelsReport } from './load.js';
import type { WrkReport } from './wrk.js';

export interface IdleResult {
  tunnels: number;
  rssBeforeMb: number;
  rssMb: number;
  /** RSS scaled linearly to 10,000 tunnels (equal to rssMb when 10,000 were held). */
  rssAt10kMb: number;
}

export interface SubjectResult {
  forward?: WrkReport;
  tunnels?: TunnelsReport;
  bulk?: BulkReport;
  idle?: IdleResult;
  notes: string[];
}

export const COLUMNS = [
  'egress',
  'egress + audit log',
  'egress, 2 workers',
  'node floor',
  'C ceiling',
  'squid',
  'tinyproxy',
  'direct',
] as const;
export type Column = (typeof COLUMNS)[number];
export type Results = Partial<Record<Column, SubjectResult>>;

interface Metric {
  title: string;
  value(r: SubjectResult): number | undefined;
  digits: number;
  /** The target, checked on the egress column. */
  target?: { text: string; met(results: Results): boolean | undefined };
}

const num = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? undefined : v);

function ratio(
  results: Results,
  metric: Metric,
  over: Column,
  of: Column = 'egress',
): number | undefined {
  const a = results[of] && num(metric.value(results[of]!));
  const b = results[over] && num(metric.value(results[over]!));
  return a !== undefined && b !== undefined && b !== 0 ? a / b : undefined;
}

export const METRICS: Metric[] = [
  {
    title: 'HTTP forward, keep-alive (req/s)',
    value: (r) => r.forward?.requestsPerSecond,
    digits: 0,
    target: {
      text: '≥ 1.5× squid',
      met: (rs) => mapped(ratio(rs, METRICS[0]!, 'squid'), (x) => x >= 1.5),
    },
  },
  { title: 'HTTP forward p50 (ms)', value: (r) => r.forward?.p50Ms, digits: 2 },
  { title: 'HTTP forward p99 (ms)', value: (r) => r.forward?.p99Ms, digits: 2 },
  {
    title: 'CONNECT tunnels, new connection each (tunnels/s)',
    value: (r) => r.tunnels?.perSecond,
    digits: 0,
    target: {
      text: '≥ 1.5× squid',
      met: (rs) => mapped(ratio(rs, METRICS[3]!, 'squid'), (x) => x >= 1.5),
    },
  },
  { title: 'CONNECT tunnel p50 (ms)', value: (r) => r.tunnels?.p50Ms, digits: 2 },
  { title: 'CONNECT tunnel p99 (ms)', value: (r) => r.tunnels?.p99Ms, digits: 2 },
  {
    title: 'Bulk, 1 GiB through one tunnel (MB/s)',
    value: (r) => r.bulk?.mbPerSecond,
    digits: 0,
    target: {
      text: '≥ 0.9× direct',
      met: (rs) => mapped(ratio(rs, METRICS[6]!, 'direct'), (x) => x >= 0.9),
    },
  },
  { title: 'RSS before the idle tunnels (MB)', value: (r) => r.idle?.rssBeforeMb, digits: 0 },
  { title: 'Idle tunnels held', value: (r) => r.idle?.tunnels, digits: 0 },
  { title: 'RSS with the idle tunnels held (MB)', value: (r) => r.idle?.rssMb, digits: 0 },
  {
    title: 'RSS for 10,000 idle tunnels (MB)',
    value: (r) => r.idle?.rssAt10kMb,
    digits: 0,
    target: {
      text: '< 400 MB',
      met: (rs) => mapped(rs.egress && num(rs.egress.idle?.rssAt10kMb), (x) => x < 400),
    },
  },
];

function mapped<T>(v: number | undefined, f: (x: number) => T): T | undefined {
  return v === undefined ? undefined : f(v);
}

function show(v: number | undefined, digits: number): string {
  if (v === undefined || Number.isNaN(v)) return '–';
  return v.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

function showRatio(v: number | undefined): string {
  return v === undefined ? '–' : `${v.toFixed(2)}×`;
}

export interface TableOutput {
  markdown: string;
  /** Targets that were checked, with whether egress met them (undefined: not measured). */
  targets: { metric: string; target: string; met: boolean | undefined }[];
}

export function renderTable(results: Results): TableOutput {
  const present = COLUMNS.filter((c) => results[c]);
  const header = [
    '',
    ...present,
    'egress/squid',
    'egress/direct',
    '2 workers/squid',
    'floor/squid',
    'ceiling/squid',
    'ceiling/direct',
    'target',
    'met',
  ];
  const lines = [
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
  ];
  const targets: TableOutput['targets'] = [];
  for (const metric of METRICS) {
    const met = metric.target?.met(results);
    if (metric.target) targets.push({ metric: metric.title, target: metric.target.text, met });
    const cells = [
      metric.title,
      ...present.map((c) => show(num(metric.value(results[c]!)), metric.digits)),
      showRatio(ratio(results, metric, 'squid')),
      showRatio(ratio(results, metric, 'direct')),
      showRatio(ratio(results, metric, 'squid', 'egress, 2 workers')),
      showRatio(ratio(results, metric, 'squid', 'node floor')),
      showRatio(ratio(results, metric, 'squid', 'C ceiling')),
      showRatio(ratio(results, metric, 'direct', 'C ceiling')),
      metric.target?.text ?? '',
      metric.target ? (met === undefined ? '–' : met ? 'yes' : '**no**') : '',
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  const notes = present.flatMap((c) => results[c]!.notes.map((n) => `- ${c}: ${n}`));
  return {
    markdown: [...lines, ...(notes.length ? ['', ...notes] : [])].join('\n'),
    targets,
  };
}
