import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  emptyModuleState,
  mirrorStatePath,
  parseMirrorState,
  readMirrorState,
  writeMirrorState,
  type MirrorStateFile,
} from '../../../src/freshness/mirror-state.js';

const state: MirrorStateFile = {
  formatVersion: 1,
  updatedAt: '2026-11-22T16:54:03.530Z',
  checker: { pid: 42, host: 'master1', startedAt: '2026-11-22T16:00:00.000Z' },
  currentGeneration: '0000000042',
  mirrors: {
    'https://mirror.example.net/containers': {
      modules: { containers: { ...emptyModuleState(), verifiedGeneration: '0000000041', consecutiveFailures: 2 } },
    },
  },
};

describe('mirror state file', () => {
  it('reads back what was written, and leaves no temp file behind', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mirror-state-'));
    expect(await readMirrorState(dir)).toBeUndefined();
    await writeMirrorState(dir, state);
    expect(await readMirrorState(dir)).toEqual(state);
    expect(await readdir(dir)).toEqual(['mirror-state.json']);
  });

  it('names the file and the key when the content is wrong', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mirror-state-'));
    await writeFile(mirrorStatePath(dir), JSON.stringify({ ...state, currentGeneration: 'x' }));
    await expect(readMirrorState(dir)).rejects.toThrow(/mirror-state\.json: currentGeneration/);
    expect(() => parseMirrorState('{', 'f.json')).toThrow(/f\.json is not JSON/);
  });

  it('ignores keys it does not know (forward compatible)', () => {
    const parsed = parseMirrorState(JSON.stringify({ ...state, extra: 1 }), 'f.json');
    expect(parsed.mirrors['https://mirror.example.net/containers']!.modules.containers!.consecutiveFailures).toBe(2);
  });
});
