import { hostname } from 'node:os';
import pLimit from 'p-limit';
import type { Logger } from 'pino';
import type { CheckConfig, MirrorConfig } from '../mirror-list/mirror-config.js';
import { checkModule, checkerClient } from './check-module.js';
import { loadMasterView, type MasterView } from './master-view.js';
import {
  emptyModuleState,
  readMirrorState,
  writeMirrorState,
  type MirrorStateFile,
  type ModuleState,
} from './mirror-state.js';
import { applyOutcome } from './outcome.js';

// One check round: every mirror of the list, every module it carries, checked concurrently (a
// bounded number of mirrors at once, a bounded number of HEADs per mirror), then one atomic
// write of the state file that every serve process routes by.

export interface RoundResult {
  state: MirrorStateFile;
  master: MasterView | undefined;
  requests: number;
  durationMs: number;
}

const MIRRORS_AT_ONCE = 16;

export class MirrorChecker {
  private state: MirrorStateFile | undefined;
  private readonly startedAt = new Date().toISOString();

  constructor(
    private readonly metadataDir: string,
    private readonly mirrors: MirrorConfig,
    private readonly check: CheckConfig,
    private readonly log: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async round(): Promise<RoundResult> {
    const started = Date.now();
    // Resumed from the file: a restarted checker keeps verifications and conditional-GET validators.
    this.state ??= await readMirrorState(this.metadataDir).catch((error: unknown) => {
      this.log.warn(`starting from an empty mirror state: ${String(error)}`);
      return undefined;
    });
    const master = await loadMasterView(this.metadataDir);
    const previous = this.state?.mirrors ?? {};
    const mirrors: MirrorStateFile['mirrors'] = {};
    let requests = 0;
    const { concurrency, timeoutSeconds, failuresBeforeOut } = this.check;
    const client = checkerClient(timeoutSeconds * 1000);
    const limit = pLimit(MIRRORS_AT_ONCE);
    await Promise.all(
      this.mirrors.mirrors.map((mirror) =>
        limit(async () => {
          const modules: Record<string, ModuleState> = {};
          const carried = master?.modules.filter((m) => !mirror.modules || mirror.modules.includes(m.name)) ?? [];
          for (const module of carried) {
            const before = previous[mirror.url]?.modules[module.name] ?? emptyModuleState();
            const outcome = await checkModule(client, mirror.url, module, before, master!, {
              concurrency,
              timeoutMs: timeoutSeconds * 1000,
              onRequest: () => requests++,
            });
            const next = applyOutcome(before, outcome, this.now().toISOString(), failuresBeforeOut);
            this.logChange(mirror.url, module.name, before, next);
            modules[module.name] = next;
          }
          mirrors[mirror.url] = { modules };
        }),
      ),
    );
    this.state = {
      formatVersion: 1,
      updatedAt: this.now().toISOString(),
      checker: { pid: process.pid, host: hostname(), startedAt: this.startedAt },
      currentGeneration: master?.current ?? null,
      mirrors,
    };
    await writeMirrorState(this.metadataDir, this.state);
    return { state: this.state, master, requests, durationMs: Date.now() - started };
  }

  private logChange(url: string, module: string, before: ModuleState, after: ModuleState): void {
    const fields = { mirror: url, module, verifiedGeneration: after.verifiedGeneration };
    if (before.inRotation && !after.inRotation)
      this.log.warn(
        { ...fields, error: after.lastError?.message },
        `${url} left rotation after ${after.consecutiveFailures} failed checks`,
      );
    else if (!before.inRotation && after.inRotation) this.log.info(fields, `${url} is back in rotation`);
    if (after.verifiedGeneration !== before.verifiedGeneration)
      this.log.info(fields, `${url} (${module}) verified at generation ${after.verifiedGeneration}`);
    else if (after.lastError && after.lastError.message !== before.lastError?.message)
      this.log.warn({ ...fields, error: after.lastError.message }, `${url} (${module}): ${after.lastError.message}`);
  }
}
