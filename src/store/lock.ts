import { hostname } from 'node:os';
import { link, mkdir, readFile, unlink, writeFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LockedError, fsError } from '../errors.js';

export interface LockInfo {
  pid: number;
  host: string;
  command: string;
  since: string;
}

export interface Lock {
  readonly info: LockInfo;
  release(): Promise<void>;
}

export interface AcquireOptions {
  command: string;
  /** Wait for the holder instead of failing (triggered syncs queue behind cron). */
  waitMs?: number;
  pollMs?: number;
  /** Ends a wait early (SIGINT/SIGTERM): the acquire rejects with the signal's reason. */
  signal?: AbortSignal;
}

async function readInfo(file: string): Promise<LockInfo | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as LockInfo;
  } catch {
    return undefined;
  }
}

/** Whether a process with this pid runs on this host (EPERM: it does, as another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Held by a live process? A lock from another host is always treated as held. */
function isStale(info: LockInfo | undefined): boolean {
  return info !== undefined && info.host === hostname() && !processAlive(info.pid);
}

export function describeHolder(info: LockInfo | undefined): string {
  return info ? `${info.command} (pid ${info.pid} on ${info.host}, since ${info.since})` : 'another process';
}

export async function readLock(file: string): Promise<LockInfo | undefined> {
  return readInfo(file);
}

/**
 * One writer per tree. The lock file is created by `link(2)` of a complete candidate file, which
 * is atomic and fails if the lock exists. A lock left by a killed process (same host, dead pid)
 * is taken over under a short-lived guard so two takers cannot both win.
 */
export async function acquireLock(file: string, options: AcquireOptions): Promise<Lock> {
  const info: LockInfo = {
    pid: process.pid,
    host: hostname(),
    command: options.command,
    since: new Date().toISOString(),
  };
  const candidate = `${file}.${process.pid}`;
  const deadline = Date.now() + (options.waitMs ?? 0);
  try {
    // A full disk fails here first: say so plainly, and leave no half-written candidate.
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(candidate, JSON.stringify(info)).catch((error: unknown) => {
      throw fsError('writing', `the lock file ${candidate}`, error);
    });
    for (;;) {
      try {
        await link(candidate, file);
        return { info, release: () => releaseLock(file, info) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = await readInfo(file);
      if (isStale(holder)) {
        await takeOverStale(file, holder!);
        continue;
      }
      if (Date.now() >= deadline)
        throw new LockedError(`tree is locked by ${describeHolder(holder)}; lock file ${file}`);
      options.signal?.throwIfAborted();
      await sleep(options.pollMs ?? 500, undefined, { signal: options.signal }).catch((error: unknown) => {
        throw options.signal?.aborted ? options.signal.reason : error;
      });
    }
  } finally {
    await unlink(candidate).catch(() => {});
  }
}

async function takeOverStale(file: string, stale: LockInfo): Promise<void> {
  const guard = `${file}.takeover`;
  try {
    await writeFile(guard, String(process.pid), { flag: 'wx' });
  } catch {
    // Someone else is taking over; a guard older than 30 s was left by a crash mid-takeover.
    const age =
      Date.now() -
      (await stat(guard).then(
        (s) => s.mtimeMs,
        () => Date.now(),
      ));
    if (age > 30_000) await unlink(guard).catch(() => {});
    await sleep(50);
    return;
  }
  try {
    const again = await readInfo(file);
    if (again && again.pid === stale.pid && again.since === stale.since) await unlink(file).catch(() => {});
  } finally {
    await unlink(guard).catch(() => {});
  }
}

async function releaseLock(file: string, info: LockInfo): Promise<void> {
  const current = await readInfo(file);
  if (current && current.pid === info.pid && current.since === info.since) await unlink(file);
}
