// Bearer tokens per (realm, service, scope) until shortly before they expire.

interface Entry {
  token: string;
  expiresAt: number;
}

/** Tokens are dropped this long before expiry so a request never starts with a dying token. */
const EARLY_MS = 10_000;
export const DEFAULT_TOKEN_SECONDS = 60;

export class TokenCache {
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  static key(realm: string, service: string | undefined, scope: string): string {
    return `${realm}\n${service ?? ''}\n${scope}`;
  }

  get(key: string): string | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt - EARLY_MS <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.token;
  }

  set(key: string, token: string, expiresInSeconds: number | undefined, issuedAt?: string): void {
    const issued = issuedAt ? Date.parse(issuedAt) : Number.NaN;
    // A clock-skewed issued_at would make fresh tokens look expired; trust our own clock then.
    const start = Number.isNaN(issued) || issued > this.#now() ? this.#now() : issued;
    this.#entries.set(key, { token, expiresAt: start + (expiresInSeconds ?? DEFAULT_TOKEN_SECONDS) * 1000 });
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }
}
