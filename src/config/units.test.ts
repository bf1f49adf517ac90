import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatByteSize, parseByteSize, parseDuration } from './units.js';

describe('parseByteSize', () => {
  it('reads plain bytes and every binary unit, any case, k = 1024', () => {
    const cases: [string, number][] = [
      ['0', 0],
      ['512', 512],
      ['512B', 512],
      ['64k', 64 * 1024],
      ['64K', 64 * 1024],
      ['64KB', 64 * 1024],
      ['64KiB', 64 * 1024],
      ['256M', 256 * 1024 ** 2],
      ['256mb', 256 * 1024 ** 2],
      ['256.00MiB', 256 * 1024 ** 2],
      ['1G', 1024 ** 3],
      ['1GiB', 1024 ** 3],
      ['1 GiB', 1024 ** 3],
      ['2T', 2 * 1024 ** 4],
      ['1P', 1024 ** 5],
      ['1.5k', 1536],
    ];
    for (const [raw, bytes] of cases) assert.equal(parseByteSize(raw), bytes, raw);
  });

  it('rounds a fraction down to whole bytes', () => {
    assert.equal(parseByteSize('0.3k'), 307);
  });

  it('rejects unknown units, signs, blanks and sizes beyond 2^53', () => {
    for (const raw of ['', '12Q', '-1k', 'k', '1 2k', '1kk', '1e3', '1x', '1E', '9999999P', '1  k']) {
      assert.equal(parseByteSize(raw), undefined, raw);
    }
  });
});

describe('formatByteSize', () => {
  it('prints the largest exact unit, and parses back', () => {
    for (const [bytes, text] of [[0, '0'], [1000, '1000'], [131072, '128k'], [256 * 1024 ** 2, '256M'], [1024 ** 3, '1G']] as const) {
      assert.equal(formatByteSize(bytes), text);
      assert.equal(parseByteSize(text), bytes);
    }
  });
});

describe('parseDuration', () => {
  it('reads ms, s, m, h, d into milliseconds, and a bare number as seconds', () => {
    const cases: [string, number][] = [
      ['0', 0],
      ['30', 30_000],
      ['500ms', 500],
      ['10s', 10_000],
      ['15m', 900_000],
      ['2h', 7_200_000],
      ['1d', 86_400_000],
      ['1h30m', 5_400_000],
      ['15M', 900_000],
    ];
    for (const [raw, ms] of cases) assert.equal(parseDuration(raw), ms, raw);
  });

  it('rejects unknown units, fractions, signs and blanks', () => {
    for (const [raw] of [[''], ['10x'], ['1.5s'], ['-1s'], ['s'], ['1h 30m'], ['1h30'], ['ten seconds'], ['1w']]) {
      assert.equal(parseDuration(raw!), undefined, raw);
    }
  });
});
