// Issue 8: crashes. The sync is killed with SIGKILL at seeded random moments (downloads are slowed
// by a throttling proxy so kills land mid-blob), restarted each time, and finally run to the end.
// The result must equal a clean sync: same tree files and hashes, same tags -> digests, no temp
// files, and interrupted downloads resumed with Range instead of refetched from zero.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureSpec } from '../helpers/fixture-spec.js';
import { layoutBlobPath } from '../../src/oci-layout/layout-format.js';
import { CLI_ARGS, jsonOf, runCli } from '../helpers/cli.js';
import { seededRandom } from '../helpers/fault-proxy.js';
import { isFileList, metadataView, snapshot, tempFiles, treeProblems } from '../helpers/tree-check.js';
import { useTestWorld } from '../helpers/test-world.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const KILLS = 24;
/** Kills at full speed, spread over whole runs. */
const FAST_KILLS = 10;
/** Throughput of the proxy while killing: slow enough that most kills land mid-download. */
const THROTTLE = 1 * MiB;
const DEADLINE_MS = 150_000;
/** Kill moments after the run's first blob byte. */
const KILL_WINDOW_MS = [0, 800] as const;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  killedAfterMs: number | undefined;
  /** Blob bytes the proxy sent during the run. */
  blobBytes?: number;
  stderr: string;
}

/**
 * Start a sync and SIGKILL it `killAfterMs` after `armed()` first holds (polled; at once when
 * absent), unless it ended first. Arming on progress, not on wall time, keeps kills where they
 * are meant to land on a loaded machine.
 */
function syncKilledAfter(config: string, killAfterMs: number, armed: () => boolean = () => true): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI_ARGS, 'sync', '-c', config, '--log-format', 'json', '-q'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let killed: number | undefined;
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const poll = setInterval(() => {
      if (!armed()) return;
      clearInterval(poll);
      timer = setTimeout(() => {
        killed = Date.now() - started;
        child.kill('SIGKILL');
      }, killAfterMs);
    }, 5);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearInterval(poll);
      clearTimeout(timer);
      resolve({ code, signal, killedAfterMs: signal === 'SIGKILL' ? killed : undefined, stderr });
    });
  });
}

describe('SIGKILL at random moments, then restart', () => {
  const world = useTestWorld({
    name: 'crash',
    proxySeed: 'crash',
    spec: fixtureSpec({
      seed: 'crash',
      repos: 3,
      tagsPerRepo: 2,
      baseBytes: 3 * MiB,
      repoBytes: 512 * KiB,
      tagBytes: 128 * KiB,
      multiPlatform: true,
    }),
  });

  /** Kill-restart `config` until `kills` kills or a run ends on its own (when `stopOnDone`). */
  async function killLoop(
    config: string,
    kills: number,
    window: readonly [number, number],
    random: () => number,
    stopOnDone: boolean,
    afterFirstBlobByte = false,
  ): Promise<Run[]> {
    const runs: Run[] = [];
    const started = Date.now();
    while (runs.filter((r) => r.signal === 'SIGKILL').length < kills) {
      expect(Date.now() - started, 'kill loop exceeded its time bound').toBeLessThan(DEADLINE_MS);
      const before = blobBytes();
      const run = await syncKilledAfter(
        config,
        window[0] + Math.floor(random() * (window[1] - window[0])),
        afterFirstBlobByte ? () => blobBytes() > before : undefined,
      );
      runs.push({ ...run, blobBytes: blobBytes() - before });
      if (run.signal !== 'SIGKILL') {
        expect(run.code, `run ${runs.length} ended on its own: ${run.stderr}`).toBe(0);
        if (stopOnDone) break;
      }
    }
    return runs;
  }

  const blobPath = /\/blobs\/sha256:/;
  const blobBytes = () =>
    world.proxy.requests.filter((r) => blobPath.test(r.path)).reduce((sum, r) => sum + r.bytesSent, 0);

  /** The tree, metadata and manifests of `root` equal those of the clean sync; no temp files. */
  async function expectEqualToClean(root: string, clean: string): Promise<void> {
    expect(await treeProblems(path.join(root, 'tree'))).toEqual([]);
    // Same files with the same bytes; file lists only by name (they carry modification times).
    const tree = async (r: string) =>
      Object.fromEntries(
        Object.entries(await snapshot(path.join(r, 'tree'))).map(([rel, hash]) => [
          rel,
          isFileList(rel) ? 'file list' : hash,
        ]),
      );
    expect(await tree(root)).toEqual(await tree(clean));
    expect(await metadataView(path.join(root, 'metadata'))).toEqual(await metadataView(path.join(clean, 'metadata')));
    const index = async (r: string) => {
      const {
        createdAt: _c,
        generation: _g,
        repositories,
        ...rest
      } = JSON.parse(await readFile(path.join(r, 'metadata/current/index.json'), 'utf8'));
      return { ...rest, repositories: Object.keys(repositories) };
    };
    expect(await index(root)).toEqual(await index(clean));
    // Manifests stored byte for byte, the same set.
    expect(await snapshot(path.join(root, 'metadata/manifests'))).toEqual(
      await snapshot(path.join(clean, 'metadata/manifests')),
    );
    expect(await tempFiles(root)).toEqual([]);
    expect(await readdir(path.join(root, 'state/partial'))).toEqual([]);
    // And blobmirror's own check, re-hashing every object.
    const verify = await runCli(['verify', '-c', path.join(path.dirname(root), 'config.yaml'), '--full', '--json']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(jsonOf(verify).problems).toEqual([]);
  }

  it(
    `survives ${KILLS} kills mid-download and ${FAST_KILLS} over whole runs`,
    { timeout: DEADLINE_MS * 2 },
    async () => {
      const random = seededRandom('crash-moments');
      // A clean sync through the unthrottled proxy: the reference, and how long a whole run takes.
      const clean = await world.writeConfig('clean', { registryUrl: world.proxy.url });
      const cleanStarted = Date.now();
      const cleanRun = await runCli(['sync', '-c', clean.file]);
      const cleanMs = Date.now() - cleanStarted;
      expect(cleanRun.code, cleanRun.stderr).toBe(0);

      // Phase 1: throttled, so most kills land mid-blob.
      const config = await world.writeConfig('killed', {
        registryUrl: world.proxy.url,
        extraSource: { retries: 2, timeoutSeconds: 5 },
      });
      world.proxy.throttle(THROTTLE);
      world.proxy.reset();
      const started = Date.now();
      const runs = await killLoop(config.file, KILLS, KILL_WINDOW_MS, random, false, true);
      const killLoopMs = Date.now() - started;
      const downloadedBeforeFinal = blobBytes();
      // The run that finishes the job, still throttled.
      const final = await runCli(['sync', '-c', config.file, '--json'], { timeoutMs: 120_000 });
      expect(final.code, final.stderr).toBe(0);
      const summary = jsonOf(final);
      world.proxy.throttle(undefined);
      const blobGets = world.proxy.requests.filter((r) => r.method === 'GET' && blobPath.test(r.path));
      const sent = blobGets.reduce((sum, r) => sum + r.bytesSent, 0);
      const resumes = blobGets.filter((r) => /^bytes=[1-9]\d*-$/.test(String(r.headers.range))).length;

      // Phase 2: full speed, kills spread over whole runs (listing, download, link, publish): each
      // episode starts from an empty root and is killed and restarted until a run completes.
      const episodes: Run[][] = [];
      const fastRoots: string[] = [];
      const fastKills = () => episodes.flat().filter((r) => r.signal === 'SIGKILL').length;
      while (fastKills() < FAST_KILLS) {
        const fast = await world.writeConfig(`fast-${episodes.length}`, { registryUrl: world.proxy.url });
        episodes.push(await killLoop(fast.file, FAST_KILLS - fastKills(), [250, Math.max(600, cleanMs)], random, true));
        const done = await runCli(['sync', '-c', fast.file]);
        expect(done.code, done.stderr).toBe(0);
        fastRoots.push(fast.root);
      }

      const report = {
        kills: runs.filter((r) => r.signal === 'SIGKILL').length + fastKills(),
        throttled: {
          kills: runs.filter((r) => r.signal === 'SIGKILL').length,
          killsWhileDownloading: runs.filter((r) => r.signal === 'SIGKILL' && r.blobBytes! > 0).length,
          killLoopMs,
          fixtureBlobBytes: world.images.blobBytes,
          bytesSentBeforeFinalRun: downloadedBeforeFinal,
          bytesSentTotal: sent,
          bytesRefetched: sent - world.images.blobBytes,
          rangeResumes: resumes,
          finalRun: { fetched: summary.bytes.fetched, resumed: summary.bytes.resumed, durationMs: summary.durationMs },
        },
        fullSpeed: {
          cleanRunMs: cleanMs,
          kills: fastKills(),
          episodes: episodes.map((runs) => runs.map((r) => r.killedAfterMs ?? 'done')),
        },
      };
      console.log(`crash report: ${JSON.stringify(report)}`);
      // Partial downloads were resumed: the Range requests prove it, and far less than the fixture
      // was fetched twice (a kill loses only what was in flight).
      expect(resumes).toBeGreaterThan(0);
      expect(report.throttled.bytesRefetched).toBeLessThan(world.images.blobBytes / 2);
      expect(report.throttled.killsWhileDownloading).toBeGreaterThanOrEqual(KILLS / 2);

      await expectEqualToClean(config.root, clean.root);
      for (const root of fastRoots) await expectEqualToClean(root, clean.root);
    },
  );

  it('a partial download holding bytes that were never the blob (power loss) is fetched again in the same run', async () => {
    const sizes = await Promise.all(
      world.images.blobs.map(
        async (digest) => [digest, (await stat(layoutBlobPath(path.join(world.work, 'layout'), digest))).size] as const,
      ),
    );
    const [digest, size] = [...sizes].sort(([, a], [, b]) => b - a)[0]!;
    const config = await world.writeConfig('garbled', { registryUrl: world.proxy.url });
    await mkdir(path.join(config.root, 'state/partial'), { recursive: true });
    await writeFile(
      path.join(config.root, 'state/partial', `sha256-${digest.slice(7)}`),
      randomBytes(Math.floor(size / 2)),
    );
    world.proxy.reset();
    const result = await runCli(['sync', '-c', config.file, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const gets = world.proxy.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/blobs/${digest}`));
    // Resumed first (the partial looked fine), then, once the digest did not match, from zero.
    expect(gets.map((r) => r.headers.range)).toEqual([`bytes=${Math.floor(size / 2)}-`, undefined]);
    expect(await treeProblems(path.join(config.root, 'tree'))).toEqual([]);
    expect(await readdir(path.join(config.root, 'state/partial'))).toEqual([]);
  });
});
