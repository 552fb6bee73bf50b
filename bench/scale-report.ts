import type { Stat } from './measure.js';
import type { ProcessStats, ScaleResult } from './scale.js';

// The markdown table `npm run bench -- --size scale` prints and docs/benchmarks.md keeps, with
// issue 17's goals beside the figures. Sizes in decimal units (1 MB = 10^6 bytes).

const MB = 1e6;
const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
const megabytes = (n: number) =>
  n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : n >= MB ? `${(n / MB).toFixed(1)} MB` : `${(n / 1e3).toFixed(1)} kB`;
const ranged = (s: Stat, unit: (n: number) => string) =>
  s.min === s.max ? unit(s.median) : `${unit(s.median)} (${unit(s.min)} – ${unit(s.max)})`;

type Row = [figure: string, wall: string, rss: string, ratio: string, goal: string];

function rowOf(figure: string, s: ProcessStats, ratio: string, goal: string): Row {
  return [figure, ranged(s.wallMs, seconds), ranged(s.peakRssBytes, megabytes), ratio, goal];
}

export function renderScaleTable(r: ScaleResult): string {
  const { floor, blobmirror: bm, metadata: md } = r;
  const over = (s: ProcessStats, f: ProcessStats) => `${(s.wallMs.median / f.wallMs.median).toFixed(2)}x floor`;
  const tags = r.repositories * r.tagsPerRepository;
  const rows: Row[] = [
    rowOf(`floor: ${r.repositories} tag lists + ${tags} HEADs (bare keep-alive client)`, floor.noop, '', ''),
    rowOf(`floor: the same + ${tags} manifest GETs`, floor.full, '', ''),
    rowOf('blobmirror full sync', bm.full, over(bm.full, floor.full), 'within 1.3x, RSS <= 500 MB'),
    rowOf('blobmirror no-op re-sync', bm.noop, over(bm.noop, floor.noop), 'within 1.2x, RSS <= 300 MB'),
    rowOf('blobmirror sync --repo (one repository, unchanged)', bm.repo, '', '<= 1 s, <= 150 MB'),
    rowOf('blobmirror sync --repo (one repository, one new tag)', bm.changedRepo, '', '<= 1 s, <= 150 MB'),
  ];
  const lines = [
    `### scale fixture: ${r.repositories} repositories x ${r.tagsPerRepository} tags, ${r.runs} runs per figure (full sync once)`,
    '',
    `Machine: ${r.machine.cpus} x ${r.machine.cpuModel}, ${megabytes(r.machine.memoryBytes)}, ${r.machine.filesystem}, node ${r.machine.node}; ` +
      `load average (1 min) at each phase: ${Object.entries(r.machine.load)
        .map(([phase, value]) => `${phase} ${value.toFixed(2)}`)
        .join(', ')}. Fixture pushed in ${seconds(r.pushMs)}.`,
    '',
    '| Figure | Wall (median, min – max) | Peak RSS | Ratio | Goal |',
    '|---|---|---|---|---|',
    ...rows.map((cells) => `| ${cells.join(' | ')} |`),
    '',
    '| Metadata written | Bytes | Goal |',
    '|---|---|---|',
    `| full sync (repository files and index; with manifests) | ${megabytes(md.full.withoutManifests)} (${megabytes(md.full.all)}) | |`,
    `| one repository changed (${md.oneRepositoryChanged.files} files; without manifests) | ${megabytes(md.oneRepositoryChanged.all)} (${megabytes(md.oneRepositoryChanged.withoutManifests)}) | grows with what changed |`,
    `| no-op re-sync (${md.noop.files} files) | ${megabytes(md.noop.all)} | nothing |`,
    `| metadata directory after the runs | ${megabytes(md.totalBytes)} | |`,
    '',
  ];
  return `${lines.join('\n')}\n`;
}
