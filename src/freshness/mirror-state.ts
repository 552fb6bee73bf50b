import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { MetadataInvalidError, describeError } from '../errors.js';
import { writeFileAtomic } from '../store/fs-durable.js';

// The mirror checker's findings (docs/formats.md, "Mirror state"): per mirror and tree module,
// which generation the mirror was verified at and how its recent checks went. One checker writes
// it next to the metadata (temp file + rename, so a reader never sees half a file); every serve
// process and `blobmirror status` read it.

export const MIRROR_STATE_FILE = 'mirror-state.json';
export const MIRROR_STATE_VERSION = 1;

const generationId = z.string().regex(/^\d{10}$/);
const timestamp = z.string();

const checkErrorSchema = z.object({ at: timestamp, message: z.string() });

export const moduleStateSchema = z.object({
  /** The newest generation whose blobs this mirror was seen to hold (null: never verified). */
  verifiedGeneration: generationId.nullable(),
  verifiedAt: timestamp.nullable(),
  /** The generation the mirror's file list last claimed (null: unknown or no list). */
  listedGeneration: generationId.nullable(),
  lastCheckAt: timestamp.nullable(),
  /** The last problem: a failed check, or a listed generation that did not verify. */
  lastError: checkErrorSchema.nullable(),
  /** Failed checks in a row (unreachable, 5xx, timeouts); 0 after a good one. */
  consecutiveFailures: z.number().int().nonnegative(),
  /** False once `consecutiveFailures` reached the mirror list's `check.failuresBeforeOut`. */
  inRotation: z.boolean(),
  /** Validators of the last file list fetched, for a conditional GET. */
  fileList: z.object({
    etag: z.string().nullable(),
    lastModified: z.string().nullable(),
    sha256: z.string().nullable(),
  }),
});

export const mirrorStateSchema = z.object({
  formatVersion: z.literal(MIRROR_STATE_VERSION),
  updatedAt: timestamp,
  checker: z.object({ pid: z.number().int(), host: z.string(), startedAt: timestamp }),
  /** The master's current generation when the state was written. */
  currentGeneration: generationId.nullable(),
  /** Mirror URL (as in the mirror list) -> module name -> state. */
  mirrors: z.record(z.string(), z.object({ modules: z.record(z.string(), moduleStateSchema) })),
});

export type ModuleState = z.output<typeof moduleStateSchema>;
export type MirrorStateFile = z.output<typeof mirrorStateSchema>;

export function mirrorStatePath(metadataDir: string): string {
  return path.join(metadataDir, MIRROR_STATE_FILE);
}

export function emptyModuleState(): ModuleState {
  return {
    verifiedGeneration: null,
    verifiedAt: null,
    listedGeneration: null,
    lastCheckAt: null,
    lastError: null,
    consecutiveFailures: 0,
    inRotation: true,
    fileList: { etag: null, lastModified: null, sha256: null },
  };
}

/** PURE: the state file's text parsed and validated; throws METADATA_INVALID naming the file. */
export function parseMirrorState(text: string, file: string): MirrorStateFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new MetadataInvalidError(`${file} is not JSON: ${describeError(error)}`);
  }
  const result = mirrorStateSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new MetadataInvalidError(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return result.data;
}

/** The state next to `metadataDir`; undefined when no checker has written one yet. */
export async function readMirrorState(metadataDir: string): Promise<MirrorStateFile | undefined> {
  const file = mirrorStatePath(metadataDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new MetadataInvalidError(`cannot read ${file}: ${describeError(error)}`, { cause: error });
  }
  return parseMirrorState(text, file);
}

export async function writeMirrorState(metadataDir: string, state: MirrorStateFile): Promise<void> {
  await writeFileAtomic(mirrorStatePath(metadataDir), `${JSON.stringify(state, null, 1)}\n`);
}
