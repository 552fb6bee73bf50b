import { stat, type Stat } from './measure.js';
import type { SyncRun } from './blobmirror.js';
import type { BenchSize } from './fixture.js';

// The JSON written to bench/results/: every run's raw figure next to its median and range, so a
// later reader can recompute anything. Times in ms, sizes in bytes, rates per second.

export const RESULT_VERSION = 1;

export interface Machine {
  cpuModel: string;
  cpus: number;
  memoryBytes: number;
  kernel: string;
  node: string;
  /** Filesystem type of the work directory (store, floor writes, skopeo's dir). */
  filesystem: string;
  tools: Record<string, string>;
  /** 1-minute load average as each phase began (fixture, floor, full, …) and at the end. */
  load: Record<string, number>;
}

export interface FixtureFacts {
  stableRepositories: number;
  /** Tags of the stable repositories, aliases included. */
  stableTags: number;
  candidateRepositories: number;
  indexes: number;
  uniqueBlobs: number;
  uniqueBytes: number;
  /** All blobs pushed, candidates included. */
  registryBytes: number;
}

export interface SyncStats {
  wallMs: Stat;
  cpuMs: Stat;
  peakRssBytes: Stat;
  bytesFetched: Stat;
  blobGets: Stat;
  maxGetsOfOneBlob: Stat;
  requests: Stat;
  attachmentRequests: Stat;
}

export interface ChangeStats extends SyncStats {
  /** Bytes of the blobs the change added, per run: what an ideal sync fetches. */
  newBytes: Stat;
  /** Every run fetched exactly the new bytes and no blob twice. */
  onlyNewBytes: boolean;
}

export interface BenchResult {
  version: typeof RESULT_VERSION;
  size: BenchSize;
  runs: number;
  startedAt: string;
  durationMs: number;
  machine: Machine;
  fixture: FixtureFacts;
  floor: {
    getMs: Stat;
    /** On every core (`cores` openssl processes): the floor's hash part. */
    hashMs: Stat;
    /** One openssl process. */
    hashOneCoreMs: Stat;
    writeMs: Stat;
    /** The CPU time of GET + hash + write over the cores: the floor of a CPU-bound machine. */
    cpuFloorMs: Stat;
    cores: number;
    /** The GET part with got's streams and with fetch (undici), for comparison with node:http. */
    clients: { got: Stat; fetch: Stat };
    concurrency: number;
    floorMs: number;
    slowest: 'get' | 'hash' | 'write';
  };
  blobmirror: {
    full: SyncStats;
    noop: SyncStats;
    /** No-op re-syncs of the final tree, then again after `signedImages` images got a cosign signature. */
    attachments: { signedImages: number; unsigned: SyncStats; signed: SyncStats };
    incremental: ChangeStats;
    baseRebuild: ChangeStats;
    treeDiskBytes: number;
    /** Tree, state and metadata: the master's whole footprint. */
    rootDiskBytes: number;
    rsyncBytesSent: number;
  };
  skopeo: { wallMs: Stat; cpuMs: Stat; peakRssBytes: Stat; diskBytes: number; rsyncBytesSent: number };
  serve: { seconds: number; connections: number; manifestRps: Stat; blobRedirectRps: Stat };
  ratios: {
    fullOverFloor: number;
    fullOverCpuFloor: number;
    skopeoOverFull: number;
    treeDiskOverUnique: number;
    rsyncOverUnique: number;
    skopeoDiskOverUnique: number;
  };
  targets: Target[];
}

export interface Target {
  what: string;
  target: string;
  value: string;
  met: boolean;
}

export function syncStats(runs: readonly SyncRun[]): SyncStats {
  const of = (pick: (run: SyncRun) => number) => stat(runs.map(pick));
  return {
    wallMs: of((r) => r.wallMs),
    cpuMs: of((r) => r.cpuMs),
    peakRssBytes: of((r) => r.peakRssBytes),
    bytesFetched: of((r) => r.bytesFetched),
    blobGets: of((r) => r.blobGets),
    maxGetsOfOneBlob: of((r) => r.maxGetsOfOneBlob),
    requests: of((r) => r.requests),
    attachmentRequests: of((r) => r.attachmentRequests),
  };
}

export function changeStats(runs: ReadonlyArray<SyncRun & { newBytes: number }>): ChangeStats {
  return {
    ...syncStats(runs),
    newBytes: stat(runs.map((r) => r.newBytes)),
    onlyNewBytes: runs.every((r) => r.bytesFetched === r.newBytes && r.maxGetsOfOneBlob <= 1),
  };
}

const MB = 1e6;
const x = (ratio: number) => `${ratio.toFixed(2)}x`;

/** The targets, judged on medians (and on every run for the byte counts). */
export function judgeTargets(r: Omit<BenchResult, 'targets'>): Target[] {
  const { blobmirror: bm } = r;
  const syncs = [bm.full, bm.noop, bm.incremental, bm.baseRebuild];
  const peakRss = Math.max(...syncs.map((s) => s.peakRssBytes.max));
  const serve = r.serve.manifestRps.median;
  return [
    {
      what: 'full sync / floor',
      target: '<= 1.5x',
      value: x(r.ratios.fullOverFloor),
      met: r.ratios.fullOverFloor <= 1.5,
    },
    {
      what: 'skopeo sync / full sync',
      target: '>= 25x',
      value: x(r.ratios.skopeoOverFull),
      met: r.ratios.skopeoOverFull >= 25,
    },
    {
      what: 'no-op re-sync, process start included',
      target: '< 1 s',
      value: `${(bm.noop.wallMs.median / 1000).toFixed(2)} s`,
      met: bm.noop.wallMs.median < 1000,
    },
    {
      what: 'incremental sync fetches only the new bytes',
      target: 'fetched = new',
      value: bm.incremental.onlyNewBytes ? 'yes' : 'no',
      met: bm.incremental.onlyNewBytes,
    },
    {
      what: 'base rebuild fetches only the new bytes, the new base once',
      target: 'fetched = new',
      value: bm.baseRebuild.onlyNewBytes ? 'yes' : 'no',
      met: bm.baseRebuild.onlyNewBytes,
    },
    {
      what: 'tree disk bytes / unique bytes',
      target: '<= 1.01x',
      value: x(r.ratios.treeDiskOverUnique),
      met: r.ratios.treeDiskOverUnique <= 1.01,
    },
    {
      what: 'rsync -aH bytes / unique bytes',
      target: '<= 1.01x',
      value: x(r.ratios.rsyncOverUnique),
      met: r.ratios.rsyncOverUnique <= 1.01,
    },
    {
      what: 'peak RSS of any sync run',
      target: '< 150 MB',
      value: `${(peakRss / MB).toFixed(0)} MB`,
      met: peakRss < 150 * MB,
    },
    {
      what: 'serve manifest GETs',
      target: '>= 5,000/s',
      value: `${Math.round(serve).toLocaleString('en-US')}/s`,
      met: serve >= 5000,
    },
  ];
}
