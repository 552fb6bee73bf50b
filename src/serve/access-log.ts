import { createWriteStream, openSync, type WriteStream } from 'node:fs';

// Access log in the NCSA combined format (what nginx and Apache write by default), so the usual
// log tools read it: host - - [time] "request" status bytes "referer" "user-agent".

export interface AccessEntry {
  remote: string;
  time: Date;
  method: string;
  target: string;
  httpVersion: string;
  status: number;
  bytes: number;
  referer: string | undefined;
  userAgent: string | undefined;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/** `[22/Nov/2026:16:30:00 +0000]`: always UTC, so lines from any host compare directly. */
export function formatLogTime(time: Date): string {
  return `${pad(time.getUTCDate())}/${MONTHS[time.getUTCMonth()]}/${time.getUTCFullYear()}:${pad(time.getUTCHours())}:${pad(time.getUTCMinutes())}:${pad(time.getUTCSeconds())} +0000`;
}

/** Quote-safe field: a client must not be able to forge fields or lines (as nginx escapes). */
function field(value: string | undefined): string {
  if (!value) return '-';
  return value
    .slice(0, 2048)
    .replace(/[\x00-\x1f\x7f-\xff"\\]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export function combinedLogLine(e: AccessEntry): string {
  const request = `${e.method} ${e.target} HTTP/${e.httpVersion}`;
  return `${field(e.remote)} - - [${formatLogTime(e.time)}] "${field(request)}" ${e.status} ${e.bytes > 0 ? e.bytes : '-'} "${field(e.referer)}" "${field(e.userAgent)}"\n`;
}

/** Appends lines to a file (reopened on demand, for logrotate) or to stderr for `-`. */
export class AccessLog {
  private stream: WriteStream | undefined;

  /** Throws at once when the file cannot be opened; later write errors go to `onError`. */
  constructor(
    private readonly target: string,
    private readonly onError: (error: Error) => void = () => {},
  ) {
    this.open();
  }

  private open(): void {
    if (this.target === '-') return;
    // Opened synchronously so a bad path fails `serve` at start, not at the first request.
    this.stream = createWriteStream(this.target, { fd: openSync(this.target, 'a') });
    this.stream.on('error', this.onError);
  }

  write(entry: AccessEntry): void {
    const line = combinedLogLine(entry);
    if (this.stream) this.stream.write(line);
    else process.stderr.write(line);
  }

  /** Start a new file at the same path (after logrotate moved the old one). */
  async reopen(): Promise<void> {
    await this.close();
    this.open();
  }

  close(): Promise<void> {
    const stream = this.stream;
    this.stream = undefined;
    return stream ? new Promise((resolve) => stream.end(resolve)) : Promise.resolve();
  }
}
