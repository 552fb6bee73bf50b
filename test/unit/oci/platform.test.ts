import { describe, expect, it } from 'vitest';
import {
  formatPlatform,
  isImagePlatform,
  platformFilterSchema,
  platformMatches,
  selectedByPlatforms,
} from '../../../src/oci/platform.js';

const amd64 = { os: 'linux', architecture: 'amd64' };
const arm64v8 = { os: 'linux', architecture: 'arm64', variant: 'v8' };
const armv7 = { os: 'linux', architecture: 'arm', variant: 'v7' };
const attestation = { os: 'unknown', architecture: 'unknown' };

describe('platform filters', () => {
  it.each(['linux/amd64', 'linux/arm64/v8', 'windows/amd64', 'linux/ppc64le', 'freebsd/riscv64'])(
    'accepts %j',
    (filter) => {
      expect(platformFilterSchema.safeParse(filter).success).toBe(true);
    },
  );

  it.each(['linux', 'amd64', 'linux/', '/amd64', 'linux/arm64/v8/x', 'Linux/AMD64', 'linux amd64', 'linux//amd64', ''])(
    'rejects %j with the expected form',
    (filter) => {
      const result = platformFilterSchema.safeParse(filter);
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.message).toMatch(/expected os\/architecture\[\/variant\]/);
    },
  );

  it('matches os and architecture, and the variant only when the filter names one', () => {
    expect(platformMatches('linux/amd64', amd64)).toBe(true);
    expect(platformMatches('linux/arm64', arm64v8)).toBe(true);
    expect(platformMatches('linux/arm64/v8', arm64v8)).toBe(true);
    expect(platformMatches('linux/arm/v6', armv7)).toBe(false);
    expect(platformMatches('linux/arm64/v8', { os: 'linux', architecture: 'arm64' })).toBe(false);
    expect(platformMatches('windows/amd64', amd64)).toBe(false);
    expect(platformMatches('linux/arm64', amd64)).toBe(false);
  });

  it('selects everything without filters, and always keeps entries that are not images', () => {
    expect(selectedByPlatforms([], armv7)).toBe(true);
    expect(selectedByPlatforms(['linux/amd64'], armv7)).toBe(false);
    expect(selectedByPlatforms(['linux/amd64', 'linux/arm/v7'], armv7)).toBe(true);
    expect(selectedByPlatforms(['linux/amd64'], attestation)).toBe(true);
    expect(selectedByPlatforms(['linux/amd64'], undefined)).toBe(true);
    expect(isImagePlatform(attestation)).toBe(false);
    expect(isImagePlatform({ os: 'linux', architecture: 'unknown' })).toBe(false);
    expect(isImagePlatform(amd64)).toBe(true);
  });

  it('formats os/architecture[/variant]', () => {
    expect(formatPlatform(amd64)).toBe('linux/amd64');
    expect(formatPlatform(arm64v8)).toBe('linux/arm64/v8');
    expect(formatPlatform({ os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.1' })).toBe(
      'windows/amd64',
    );
  });
});
