import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Stat } from './measure.js';
import type { BenchResult, ChangeStats, SyncStats } from './results.js';

// The markdown table `npm run bench` prints and docs/benchmarks.md keeps. Sizes in decimal
// units (1 MB = 10^6 bytes), like the targets.

type Unit = (value: number) => string;

const seconds: Unit = (ms) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
const bytes: Unit = (n) =>
  n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(1)} kB`;
const perSecond: Unit = (n) => `${Math.round(n).toLocaleString('en-US')}/s`;
const count: Unit = (n) => String(n);
const times = (ratio: number, of: string) => `${ratio.toFixed(2)}x ${of}`;

type Row = [measure: string, median: string, range: string, ratio: string];

function row(measure: string, value: Stat | number, unit: Unit, ratio = ''): Row {
  if (typeof value === 'number') return [measure, unit(value), '', ratio];
  const range = value.min === value.max ? '' : `${unit(value.min)} – ${unit(value.max)}`;
  return [measure, unit(value.median), range, ratio];
}

function syncRows(label: string, s: SyncStats, wallRatio = '', extra: Row[] = []): Row[] {
  return [
    row(`${label}: wall`, s.wallMs, seconds, wallRatio),
    row(`${label}: CPU (user+sys)`, s.cpuMs, seconds),
    row(`${label}: peak RSS`, s.peakRssBytes, bytes),
    ...extra,
  ];
}

function changeRows(label: string, s: ChangeStats): Row[] {
  return syncRows(label, s, '', [
    row(
      `${label}: bytes fetched`,
      s.bytesFetched,
      bytes,
      times(s.bytesFetched.median / s.newBytes.median, 'the new bytes'),
    ),
    row(`${label}: new bytes (ideal)`, s.newBytes, bytes),
    row(`${label}: most GETs of one blob`, s.maxGetsOfOneBlob, count),
  ]);
}

export function renderTable(r: BenchResult): string {
  const { floor, blobmirror: bm, skopeo, serve, fixture: f, machine: m } = r;
  const unique = f.uniqueBytes;
  const rows: Row[] = [
    row(
      `Floor: GET every unique blob (${floor.concurrency} in parallel, bytes discarded, own process)`,
      floor.getMs,
      seconds,
    ),
    row('Floor: sha256 of the unique bytes, one core (one openssl dgst)', floor.hashOneCoreMs, seconds),
    row(`Floor: sha256 of the unique bytes, all ${floor.cores} cores (openssl dgst each)`, floor.hashMs, seconds),
    row(`Floor: write the unique bytes, fsync each file (${floor.concurrency} in parallel)`, floor.writeMs, seconds),
    row(`**Floor** (the slowest: ${floor.slowest})`, floor.floorMs, seconds),
    row(`CPU floor: CPU time of GET + hash + write over ${floor.cores} cores`, floor.cpuFloorMs, seconds),
    row(
      'Other clients: GET every unique blob with got streams',
      floor.clients.got,
      seconds,
      times(floor.clients.got.median / floor.getMs.median, 'node:http'),
    ),
    row(
      'Other clients: GET every unique blob with fetch (undici)',
      floor.clients.fetch,
      seconds,
      times(floor.clients.fetch.median / floor.getMs.median, 'node:http'),
    ),
    ...syncRows(
      'blobmirror full sync',
      bm.full,
      `${times(r.ratios.fullOverFloor, 'floor')}, ${times(r.ratios.fullOverCpuFloor, 'CPU floor')}`,
      [
        row(
          'blobmirror full sync: bytes fetched',
          bm.full.bytesFetched,
          bytes,
          times(bm.full.bytesFetched.median / unique, 'unique'),
        ),
      ],
    ),
    ...syncRows('blobmirror no-op re-sync', bm.noop, '', [
      row('blobmirror no-op re-sync: registry requests', bm.noop.requests, count),
    ]),
    row(
      `blobmirror no-op re-sync, ${bm.attachments.signedImages} images signed: registry requests`,
      bm.attachments.signed.requests,
      count,
      `+${bm.attachments.signed.requests.median - bm.attachments.unsigned.requests.median} vs unsigned (${bm.attachments.signed.attachmentRequests.median} attachment checks)`,
    ),
    ...changeRows('blobmirror incremental (one new tag)', bm.incremental),
    ...changeRows('blobmirror base rebuild (a tag per repository on a new base)', bm.baseRebuild),
    row(
      `skopeo sync (${f.stableRepositories} x --src docker --dest dir --all --scoped): wall`,
      skopeo.wallMs,
      seconds,
      times(r.ratios.skopeoOverFull, 'blobmirror full sync'),
    ),
    row('skopeo sync: CPU (user+sys)', skopeo.cpuMs, seconds),
    row('skopeo sync: peak RSS (largest invocation)', skopeo.peakRssBytes, bytes),
    row('Disk: blobmirror tree (du -sb)', bm.treeDiskBytes, bytes, times(r.ratios.treeDiskOverUnique, 'unique')),
    row(
      'Disk: blobmirror tree + state + metadata (du -sb)',
      bm.rootDiskBytes,
      bytes,
      times(bm.rootDiskBytes / unique, 'unique'),
    ),
    row('Disk: skopeo dir (du -sb)', skopeo.diskBytes, bytes, times(r.ratios.skopeoDiskOverUnique, 'unique')),
    row(
      'rsync -aH into an empty dir, bytes sent: blobmirror tree',
      bm.rsyncBytesSent,
      bytes,
      times(r.ratios.rsyncOverUnique, 'unique'),
    ),
    row(
      'rsync -aH into an empty dir, bytes sent: skopeo dir',
      skopeo.rsyncBytesSent,
      bytes,
      times(skopeo.rsyncBytesSent / unique, 'unique'),
    ),
    row(
      `serve: manifest GET by tag (${serve.connections} connections, ${serve.seconds} s)`,
      serve.manifestRps,
      perSecond,
    ),
    row(
      `serve: blob GET answered 307 (${serve.connections} connections, ${serve.seconds} s)`,
      serve.blobRedirectRps,
      perSecond,
    ),
  ];
  const table = (header: string[], body: string[][]) =>
    [
      `| ${header.join(' | ')} |`,
      `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
      ...body.map((cells) => `| ${cells.join(' | ')} |`),
    ].join('\n');
  return [
    `### ${r.size} fixture, ${r.runs} runs per figure (${r.startedAt.slice(0, 16).replace('T', ' ')} UTC, took ${seconds(r.durationMs)})`,
    '',
    `Fixture: ${f.stableRepositories} stable repositories with ${f.stableTags} tags (aliases included), ${f.indexes} multi-platform indexes, ` +
      `${f.candidateRepositories} candidate repositories (in the registry, not synced); ${f.uniqueBlobs} unique blobs, ${bytes(unique)} ` +
      `(${bytes(f.registryBytes)} in the registry).`,
    '',
    `Machine: ${m.cpuModel}, ${m.cpus} cores, ${bytes(m.memoryBytes)} memory, Linux ${m.kernel}, ${m.filesystem}, Node ${m.node}; ` +
      `${Object.values(m.tools).join('; ')}.`,
    '',
    `Load average (1 min) as each phase began: ${Object.entries(m.load)
      .map(([name, value]) => `${name} ${value.toFixed(1)}`)
      .join(', ')}.`,
    '',
    table(['Measure', 'Median', 'Min – max', 'Ratio'], rows),
    '',
    table(
      ['Target (large fixture)', 'Wanted', 'Measured', 'Met'],
      r.targets.map((t) => [t.what, t.target, t.value, t.met ? 'yes' : '**no**']),
    ),
    '',
  ].join('\n');
}

/** `<dir>/<size>-<time>.json`; returns its path. */
export async function writeResult(r: { size: string; startedAt: string }, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${r.size}-${r.startedAt.replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify(r, null, 2)}\n`);
  return file;
}
