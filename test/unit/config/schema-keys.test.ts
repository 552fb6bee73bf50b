import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.js';
import { knownKeysAt, nearestKey } from '../../../src/config/schema-keys.js';

describe('knownKeysAt', () => {
  it('walks objects, defaults and arrays to the keys accepted there', () => {
    expect(knownKeysAt(configSchema, {}, ['retention'])).toEqual(['graceDays', 'historyDays', 'gcAfterSync']);
    expect(knownKeysAt(configSchema, {}, ['listen', 'bodhi'])).toEqual(['repositories', 'template']);
  });

  it('offers the keys of the union option whose type matches', () => {
    expect(knownKeysAt(configSchema, { source: { type: 'oci-layout' } }, ['source'])).toEqual(['type', 'path']);
    expect(knownKeysAt(configSchema, { source: { type: 'registry' } }, ['source'])).toContain('catalogPageSize');
  });
});

describe('nearestKey', () => {
  it('suggests a near miss and nothing for an unrelated word', () => {
    expect(nearestKey('stroage', ['storage', 'source'])).toBe('storage');
    expect(nearestKey('KeepNewest', ['keepNewest'])).toBe('keepNewest');
    expect(nearestKey('flavour', ['root', 'tree', 'metadata', 'state'])).toBeUndefined();
    expect(nearestKey('x', [])).toBeUndefined();
  });
});
