import { InvalidInputError, MetadataInvalidError } from '../errors.js';

// PURE: quick-fedora-mirror's `fullfiletimelist-<module>`, version 2 (docs/formats.md, "File
// lists"). Mirrors diff two of these to rsync only what changed; MirrorManager's umdl reads the
// `f` and `d` rows to know what an up-to-date mirror holds.

export const FILE_LIST_VERSION = 2;
export const FILE_LIST_PREFIX = 'fullfiletimelist-';

export type EntryKind = 'f' | 'd' | 'l';

export interface FileListEntry {
  /** Seconds: max(mtime, ctime), so a new hardlink (ctime) marks every path of the inode. */
  mtime: number;
  /** `f`/`d`/`l`, then `*` when under a non-world-readable directory, `-` when not world-readable itself. */
  type: string;
  /** Bytes (a symlink: the length of its target). */
  size: number;
  /** Relative to the module root, `/`-separated, no `./`. */
  path: string;
}

export interface FileList {
  version: number;
  /** Sorted by path. */
  files: FileListEntry[];
  /** path -> SHA1 hex, for the files that have one (none unless checksums are on). */
  checksums: Record<string, string>;
}

export function fileListName(module: string): string {
  return `${FILE_LIST_PREFIX}${module}`;
}

export function entryType(kind: EntryKind, underRestricted: boolean, worldReadable: boolean): string {
  return `${kind}${underRestricted ? '*' : worldReadable ? '' : '-'}`;
}

export function renderFileList(list: Omit<FileList, 'version'>): string {
  const lines = ['[Version]', String(FILE_LIST_VERSION), '', '[Files]'];
  for (const e of list.files) lines.push(`${e.mtime}\t${e.type}\t${e.size}\t${e.path}`);
  lines.push('');
  // Own keys only: a file named `constructor` has no checksum from Object.prototype.
  const checksummed = list.files.filter((e) => Object.hasOwn(list.checksums, e.path));
  if (checksummed.length) {
    lines.push('[Checksums SHA1]');
    for (const e of checksummed) lines.push(`${list.checksums[e.path]}\t${e.path}`);
    lines.push('');
  }
  lines.push('[End]', '');
  return lines.join('\n');
}

const TYPE = /^[fdl][*-]?$/;
const INTEGER = /^\d{1,15}$/;
const SHA1 = /^[0-9a-f]{40}$/;

function invalid(line: number, message: string): InvalidInputError {
  return new MetadataInvalidError(`file list line ${line}: ${message}`);
}

/** Paths from a list become URLs and local paths: nothing absolute, nothing climbing out. */
function checkPath(path: string, line: number): string {
  if (
    path === '' ||
    path.startsWith('/') ||
    path.split('/').some((part) => part === '' || part === '.' || part === '..')
  ) {
    throw invalid(line, `unsafe path ${JSON.stringify(path.slice(0, 200))}`);
  }
  return path;
}

/**
 * Parse a file list; sections it does not know (some generators add `[Checksums SHA256]`) are
 * skipped. A list without `[End]` was cut short (a partial download) and is refused.
 */
export function parseFileList(text: string): FileList {
  // No prototype: paths such as `__proto__` are plain keys.
  const list: FileList = { version: 0, files: [], checksums: Object.create(null) as Record<string, string> };
  let section: string | undefined;
  let ended = false;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length && !ended; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    const n = i + 1;
    if (line === '') {
      section = undefined;
      continue;
    }
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1];
      ended = section === 'End';
      continue;
    }
    if (section === 'Version') {
      if (!INTEGER.test(line)) throw invalid(n, `version ${JSON.stringify(line)} is not a number`);
      list.version = Number(line);
    } else if (section === 'Files') {
      const [mtime, type, size, ...rest] = line.split('\t');
      if (!INTEGER.test(mtime ?? '') || !TYPE.test(type ?? '') || !INTEGER.test(size ?? '') || rest.length === 0) {
        throw invalid(n, 'expected mtime<TAB>type<TAB>size<TAB>path');
      }
      list.files.push({ mtime: Number(mtime), type: type!, size: Number(size), path: checkPath(rest.join('\t'), n) });
    } else if (section === 'Checksums SHA1') {
      const tab = line.indexOf('\t');
      const sum = line.slice(0, tab);
      if (tab < 0 || !SHA1.test(sum)) throw invalid(n, 'expected sha1<TAB>path');
      list.checksums[checkPath(line.slice(tab + 1), n)] = sum;
    }
  }
  if (!ended) throw new MetadataInvalidError('file list has no [End] line: it was cut short');
  if (list.version !== FILE_LIST_VERSION)
    throw new MetadataInvalidError(
      `file list version ${list.version} is not supported (expected ${FILE_LIST_VERSION})`,
    );
  return list;
}
