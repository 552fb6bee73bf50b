import { describe, expect, it } from 'vitest';
import { joinUrl } from '../../../src/mirror-list/mirrors.js';

describe('mirror URLs', () => {
  it('joins base and tree path with one slash, each segment encoded', () => {
    expect(joinUrl('http://m/x', 'a/_blobs/sha256/ff')).toBe('http://m/x/a/_blobs/sha256/ff');
    expect(joinUrl('http://m', 'a b/c')).toBe('http://m/a%20b/c');
  });
});
