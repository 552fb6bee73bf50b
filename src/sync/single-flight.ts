/**
 * One promise per key for a run: concurrent and later callers of a key share the first one's
 * promise (a manifest GET, a blob download, a manifest write happens once however many tags name
 * it); a rejection is forgotten, so a later caller tries again.
 */
export class SingleFlight<K, V> {
  readonly #entries = new Map<K, Promise<V>>();

  run(key: K, start: () => Promise<V>): Promise<V> {
    let entry = this.#entries.get(key);
    if (!entry) {
      entry = start();
      entry.catch(() => this.#entries.delete(key));
      this.#entries.set(key, entry);
    }
    return entry;
  }
}
