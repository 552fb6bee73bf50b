import { RegistryError } from '../errors.js';
import { parseChallenge, type Challenge } from './auth-challenge.js';
import { errorText } from './check-response.js';
import { drain } from './http-body.js';
import type { Redactor } from './redactor.js';
import { header, type RegistryRequest, type RoundTrip } from './round-trip.js';

/**
 * `GET /v2/` once, to learn the auth scheme before the first real request (so it authenticates
 * up front); a failed ping is forgotten so the next request tries again.
 */
export class Ping {
  #challenge: Promise<Challenge | undefined> | undefined;

  constructor(
    private readonly next: RoundTrip,
    private readonly base: Pick<RegistryRequest, 'server' | 'configKey' | 'signal'> & { origin: string },
    private readonly redactor: Redactor,
  ) {}

  challenge(): Promise<Challenge | undefined> {
    this.#challenge ??= this.#ping();
    this.#challenge.catch(() => (this.#challenge = undefined));
    return this.#challenge;
  }

  /** The scheme or realm may change after the ping: a 401's challenge replaces it. */
  update(challenge: Challenge): void {
    this.#challenge = Promise.resolve(challenge);
  }

  async #ping(): Promise<Challenge | undefined> {
    const { origin, ...base } = this.base;
    const request: RegistryRequest = { ...base, method: 'GET', url: `${origin}/v2/`, headers: {} };
    const response = await this.next(request);
    if (response.status === 200 || response.status === 401) {
      drain(response.body);
      return response.status === 401 ? parseChallenge(header(response.headers['www-authenticate'])) : undefined;
    }
    const text = await errorText(response, this.redactor);
    throw new RegistryError(`${origin}/v2/ answered ${response.status}: not a Docker Registry V2 API${text}`, {
      status: response.status,
    });
  }
}
