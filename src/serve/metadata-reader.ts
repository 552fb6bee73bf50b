import { constants } from 'node:fs';
import { open, readdir, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import { BlobmirrorError, MetadataInvalidError, describeError } from '../errors.js';
import { sha256Digest } from '../oci/digest.js';
import { manifestDigest } from '../oci/manifest.js';
import { CURRENT, GENERATION_ID, GENERATIONS, INDEX_FILE, generationDir } from '../publish/metadata-paths.js';
import {
  compareNames,
  indexSchema,
  repositorySchema,
  toServedRepository,
  type ManifestEntry,
  type ServedRepository,
} from './metadata-schema.js';

// Reads the metadata directory that sync publishes (docs/formats.md). A request takes one
// Generation and reads only through it, so a response never mixes two generations even when
// `current` moves mid-request. Paths come from our own metadata, never from URLs, and are still
// checked to stay inside the metadata directory.

const CURRENT_TARGET = /^generations\/(\d{1,20})\/?$/;
const MAX_METADATA_FILE_BYTES = 256 * 1024 * 1024;

function invalid(message: string, cause?: unknown): BlobmirrorError {
  return new MetadataInvalidError(message, cause === undefined ? {} : { cause });
}

/**
 * Read a whole regular file inside `root`: the directory holding it must resolve (symlinks
 * followed) inside `root`, and the file is opened there without following a symlink, so no link
 * in the metadata directory, of a file or of a directory, leads a read elsewhere.
 */
async function readFileInside(root: string, file: string, maxBytes: number): Promise<Buffer> {
  const [realRoot, realDir] = await Promise.all([realpath(root), realpath(path.dirname(file))]);
  if (realDir !== realRoot && !realDir.startsWith(`${realRoot}${path.sep}`))
    throw invalid(`${file} leads out of ${root} through a symlink`);
  const handle = await open(path.join(realDir, path.basename(file)), constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const { size } = await handle.stat();
    if (size > maxBytes) throw invalid(`${file} is ${size} bytes, over the ${maxBytes}-byte limit`);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** Read and validate a JSON file inside `root`; with `digest`, its bytes must hash to it first. */
async function readJson<S extends z.ZodType>(
  root: string,
  file: string,
  schema: S,
  digest?: string,
): Promise<z.output<S>> {
  let json: unknown;
  try {
    const bytes = await readFileInside(root, file, MAX_METADATA_FILE_BYTES);
    if (digest !== undefined && sha256Digest(bytes) !== digest) throw invalid(`${file} does not hash to ${digest}`);
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    if (error instanceof BlobmirrorError) throw error;
    throw invalid(`cannot read ${file}: ${describeError(error)}`, error);
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw invalid(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return result.data;
}

/** Where a generation's repository file is (absolute) and, in format 2, the digest of its bytes. */
export interface RepositoryFile {
  file: string;
  digest?: string;
}

/** One published generation: the repository list now, each repository's file on first use. */
export class Generation {
  readonly repositoryNames: string[];
  private readonly repositoryFiles: Map<string, RepositoryFile>;
  private readonly loaded = new Map<string, Promise<ServedRepository>>();
  /** An earlier loaded generation whose parsed files this one may share (format 2: same digest, same file). */
  private readonly lender: WeakRef<Generation> | undefined;

  constructor(
    readonly id: string,
    readonly dir: string,
    repositoryFiles: Map<string, RepositoryFile>,
    /** The metadata directory: every read stays inside it. */
    private readonly root: string,
    /** When sync published it (index.json `createdAt`). */
    readonly createdAt: string,
    lender?: Generation,
  ) {
    this.repositoryFiles = repositoryFiles;
    // Weak: a chain of generations each holding the one before would never be collected.
    this.lender = lender && new WeakRef(lender);
    this.repositoryNames = [...repositoryFiles.keys()].sort(compareNames);
  }

  hasRepository(name: string): boolean {
    return this.repositoryFiles.has(name);
  }

  /** The repository's metadata, or undefined when this generation does not have it. */
  repository(name: string): Promise<ServedRepository> | undefined {
    const located = this.repositoryFiles.get(name);
    if (located === undefined) return undefined;
    let pending = this.loaded.get(name);
    if (!pending) {
      pending =
        this.lender?.deref()?.loadedFile(name, located.digest) ??
        readJson(this.root, located.file, repositorySchema, located.digest).then((parsed) => {
          if (parsed.name !== name) throw invalid(`${located.file} describes ${parsed.name}, not ${name}`);
          return toServedRepository(parsed);
        });
      // A failed read is retried by the next request rather than cached for the generation's life.
      pending.catch(() => this.loaded.delete(name));
      this.loaded.set(name, pending);
    }
    return pending;
  }

  /** The repository as this generation loaded it, when its file has `digest`. */
  private loadedFile(name: string, digest: string | undefined): Promise<ServedRepository> | undefined {
    return digest !== undefined && this.repositoryFiles.get(name)?.digest === digest
      ? this.loaded.get(name)
      : undefined;
  }
}

export interface MetadataReaderOptions {
  /** How long a resolved `current` is trusted before the link is read again. 0: every request. */
  recheckMs?: number;
  /** Bytes of manifests kept in memory (they are immutable, shared by generations). */
  manifestCacheBytes?: number;
  now?: () => number;
  /** Told when a new generation could not be loaded (the previous one keeps being served). */
  onReloadError?: (error: unknown) => void;
}

export class MetadataReader {
  private generation: Generation | undefined;
  private checkedAt = -Infinity;
  private pending: Promise<Generation> | undefined;
  private readonly manifestCache = new Map<string, Buffer>();
  /** Generations other than the current one, loaded for the status page's history. */
  private readonly older = new Map<string, Promise<Generation>>();
  private manifestCacheSize = 0;
  private readonly recheckMs: number;
  private readonly manifestCacheBytes: number;
  private readonly now: () => number;

  constructor(
    readonly metadataDir: string,
    private readonly options: MetadataReaderOptions = {},
  ) {
    this.recheckMs = options.recheckMs ?? 1000;
    this.manifestCacheBytes = options.manifestCacheBytes ?? 64 * 1024 * 1024;
    this.now = options.now ?? Date.now;
  }

  /** The current generation; `current` is re-read at most every `recheckMs`. */
  current(): Promise<Generation> {
    if (this.generation && this.now() - this.checkedAt < this.recheckMs) return Promise.resolve(this.generation);
    // Concurrent requests share one readlink (and one index load when the link moved).
    this.pending ??= this.refresh().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async refresh(): Promise<Generation> {
    const link = path.join(this.metadataDir, CURRENT);
    let target: string;
    try {
      target = await readlink(link);
    } catch (error) {
      if (this.generation) return this.keepAfter(error);
      // The errno code alone: node's message would name the link a second time.
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'does not exist' : code ? `cannot be read (${code})` : describeError(error);
      throw invalid(`no published generation: the link ${link} ${why}`, error);
    }
    const id = CURRENT_TARGET.exec(target)?.[1];
    if (id === undefined) {
      const error = invalid(`${link} points at ${JSON.stringify(target)}, expected generations/<id>`);
      if (this.generation) return this.keepAfter(error);
      throw error;
    }
    if (this.generation?.id !== id) {
      try {
        this.generation = await this.load(id, this.generation);
      } catch (error) {
        if (this.generation) return this.keepAfter(error);
        throw error;
      }
    }
    this.checkedAt = this.now();
    return this.generation;
  }

  // A broken new generation must not take the service down: keep answering from the last good one.
  private keepAfter(error: unknown): Generation {
    this.options.onReloadError?.(error);
    this.checkedAt = this.now();
    return this.generation!;
  }

  /** Generation `id`; `lender` is a loaded generation whose parsed repository files it may share. */
  private async load(id: string, lender?: Generation): Promise<Generation> {
    const dir = generationDir(this.metadataDir, id);
    const index = await readJson(this.metadataDir, path.join(dir, INDEX_FILE), indexSchema);
    if (index.generation !== id) throw invalid(`${dir}/${INDEX_FILE} says generation ${index.generation}`);
    // Format 1 (until the first sync after an upgrade): files inside the generation directory.
    // Format 2: content-addressed files under the metadata directory, checked against their digest.
    const files = new Map<string, RepositoryFile>(
      index.formatVersion === 1
        ? Object.entries(index.repositories).map(([name, entry]) => [name, { file: path.join(dir, entry.path) }])
        : Object.entries(index.repositories).map(([name, ref]) => [
            name,
            { file: path.join(this.metadataDir, ref.path), digest: ref.digest },
          ]),
    );
    return new Generation(id, dir, files, this.metadataDir, index.createdAt, lender);
  }

  /** Every generation still on disk (the current one and those kept), oldest first. */
  async keptGenerations(): Promise<Generation[]> {
    const current = await this.current();
    const names = await readdir(path.join(this.metadataDir, GENERATIONS)).catch(() => [] as string[]);
    const ids = names.filter((name) => GENERATION_ID.test(name) && name <= current.id).sort();
    // Generations are immutable: each is loaded once; those removed from disk are forgotten.
    for (const id of this.older.keys()) if (!ids.includes(id)) this.older.delete(id);
    return Promise.all(
      ids.map((id) => {
        if (id === current.id) return current;
        let pending = this.older.get(id);
        if (!pending) {
          pending = this.load(id, current);
          pending.catch(() => this.older.delete(id));
          this.older.set(id, pending);
        }
        return pending;
      }),
    );
  }

  /** The exact stored bytes of a manifest, checked against its size and digest once. */
  async manifestBytes(entry: ManifestEntry): Promise<Buffer> {
    const cached = this.manifestCache.get(entry.digest);
    if (cached) {
      // Re-insert: Map order is the LRU order.
      this.manifestCache.delete(entry.digest);
      this.manifestCache.set(entry.digest, cached);
      return cached;
    }
    const file = path.join(this.metadataDir, entry.path);
    let bytes: Buffer;
    try {
      bytes = await readFileInside(this.metadataDir, file, Math.max(entry.size, 1));
    } catch (error) {
      if (error instanceof BlobmirrorError) throw error;
      throw invalid(`cannot read manifest ${entry.digest} at ${file}: ${describeError(error)}`, error);
    }
    if (bytes.length !== entry.size)
      throw invalid(`manifest ${file} is ${bytes.length} bytes, metadata says ${entry.size}`);
    if (manifestDigest(bytes, entry.mediaType) !== entry.digest)
      throw invalid(`manifest ${file} does not hash to ${entry.digest}`);
    this.remember(entry.digest, bytes);
    return bytes;
  }

  private remember(digest: string, bytes: Buffer): void {
    // Two requests may have read the same manifest at once; count it once.
    if (bytes.length > this.manifestCacheBytes || this.manifestCache.has(digest)) return;
    this.manifestCache.set(digest, bytes);
    this.manifestCacheSize += bytes.length;
    for (const [oldest, old] of this.manifestCache) {
      if (this.manifestCacheSize <= this.manifestCacheBytes) break;
      this.manifestCache.delete(oldest);
      this.manifestCacheSize -= old.length;
    }
  }
}
