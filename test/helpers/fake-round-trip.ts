import { Readable } from 'node:stream';
import type { RegistryRequest, RegistryResponse, RoundTrip } from '../../src/registry/round-trip.js';

/** A response as the layers below would hand it up. */
export function answer(status: number, headers: Record<string, string> = {}, body = ''): RegistryResponse {
  return { status, headers, url: 'https://registry.example/v2/', body: Readable.from([Buffer.from(body)]) };
}

export function request(overrides: Partial<RegistryRequest> = {}): RegistryRequest {
  return {
    method: 'GET',
    url: 'https://registry.example/v2/stable/app/tags/list',
    headers: {},
    server: 'registry https://registry.example',
    configKey: 'source.url',
    ...overrides,
  };
}

/** A scripted next layer: answers (or throws) in turn and records what it was asked. */
export function scripted(steps: Array<RegistryResponse | Error | ((r: RegistryRequest) => RegistryResponse)>): {
  next: RoundTrip;
  seen: RegistryRequest[];
} {
  const seen: RegistryRequest[] = [];
  let at = 0;
  const next: RoundTrip = async (r) => {
    seen.push(r);
    const step = steps[Math.min(at++, steps.length - 1)]!;
    if (step instanceof Error) throw step;
    return typeof step === 'function' ? step(r) : step;
  };
  return { next, seen };
}
