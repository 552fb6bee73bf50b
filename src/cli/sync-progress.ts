import type cliProgress from 'cli-progress';
import type { SyncEvents } from '../sync/events.js';
import { formatBytes, plural } from '../format.js';
import type { Output } from './output.js';

/**
 * Progress as sync events: a bar of bytes and blobs on a terminal, log lines otherwise (cron
 * gets one line per repository, not a line per chunk).
 */
export async function syncProgress(
  output: Output,
  options: { dryRun?: boolean } = {},
): Promise<SyncEvents & { stop(): void }> {
  const { log } = output;
  // The bar library is for terminals only; cron does not load it. A dry run fetches nothing, so
  // a bar would only sit at 0 %; -q asks for errors only.
  const wantBar = output.interactive && !output.quiet && !options.dryRun;
  const bars = wantBar ? (await import('cli-progress')).default : undefined;
  let bar: cliProgress.SingleBar | undefined;
  let blobsDone = 0;
  let blobsTotal = 0;
  // The bar's total is every planned blob's full size, so bytes a resumed download already had
  // count as done; the speed counts only bytes received in this run.
  let bytesReceived = 0;
  let bytesResumed = 0;
  let startedAt = Date.now();
  const draw = () => {
    const elapsed = Math.max(0.001, (Date.now() - startedAt) / 1000);
    const done = bytesReceived + bytesResumed;
    bar?.update(done, { value_h: formatBytes(done), speed: formatBytes(bytesReceived / elapsed) });
  };
  return {
    repositoriesSelected: (names) => log.info({ repositories: names.length }, `selected ${names.length} repositories`),
    blobsPlanned(count, bytes) {
      blobsTotal = count;
      log.info({ blobs: count, bytes }, `${count} blobs to fetch (${formatBytes(bytes)})`);
      if (bars && count > 0) {
        bar = new bars.SingleBar(
          {
            format: ' {bar} {percentage}% | {done}/{count} blobs | {value_h}/{total_h} | {speed}/s',
            hideCursor: true,
            stream: process.stderr,
          },
          bars.Presets.shades_classic,
        );
        startedAt = Date.now();
        bar.start(bytes, 0, { done: 0, count, value_h: formatBytes(0), total_h: formatBytes(bytes), speed: '0 B' });
      }
    },
    bytes(n) {
      bytesReceived += n;
      draw();
    },
    bytesResumed(n) {
      bytesResumed += n;
      log.debug({ bytes: n }, `resuming a partial download after ${formatBytes(n)}`);
      draw();
    },
    blobDone() {
      blobsDone++;
      bar?.update({ done: blobsDone, count: blobsTotal });
    },
    repositoryDone(name, failures) {
      if (failures.length === 0) return log.debug({ repository: name }, `${name}: done`);
      const tags = [...new Set(failures.flatMap((f) => (f.tag ? [f.tag] : [])))];
      log.warn(
        { repository: name, failures: failures.length, tags },
        `${name}: ${plural(failures.length, 'failure')}${tags.length ? ` in ${tags.join(', ')}` : ''}`,
      );
    },
    warn: (message, fields) => log.warn(fields ?? {}, message),
    stop: () => bar?.stop(),
  };
}
