/**
 * Every secret the transport sends (passwords, Basic values, tokens), cut out of whatever a
 * server echoes back: some registries and proxies repeat the request's Authorization in errors.
 */
export class Redactor {
  readonly #secrets = new Set<string>();

  add(secret: string): void {
    if (secret) this.#secrets.add(secret);
  }

  redact(text: string): string {
    let out = text;
    for (const secret of this.#secrets) out = out.split(secret).join('[redacted]');
    return out;
  }
}
