import { z } from 'zod';

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
}

const PLATFORM_PATTERN = /^[a-z0-9_.-]+\/[a-z0-9_.-]+(?:\/[a-z0-9_.-]+)?$/;

export const platformFilterSchema = z
  .string()
  .regex(PLATFORM_PATTERN, 'expected os/architecture[/variant], e.g. linux/amd64 or linux/arm64/v8');

export function formatPlatform(platform: Platform): string {
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
}

/** `linux/arm64/v8` matches an entry whose os and architecture are equal and, if given, variant. */
export function platformMatches(filter: string, platform: Platform): boolean {
  const [os, architecture, variant] = filter.split('/');
  if (platform.os !== os || platform.architecture !== architecture) return false;
  return variant === undefined || platform.variant === variant;
}

/** Entries that are not images (attestations: unknown/unknown, or no platform) always pass. */
export function isImagePlatform(platform: Platform | undefined): platform is Platform {
  return platform !== undefined && platform.os !== 'unknown' && platform.architecture !== 'unknown';
}

export function selectedByPlatforms(filters: readonly string[], platform: Platform | undefined): boolean {
  if (filters.length === 0 || !isImagePlatform(platform)) return true;
  return filters.some((filter) => platformMatches(filter, platform));
}
