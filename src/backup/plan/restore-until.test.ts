import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QuiverError } from '../../util/errors.js';
import { isPastLimit, parseRestoreUntil } from './restore-until.js';

/** Asserts that parsing `raw` fails with UsageInvalid, names the value, and carries the format hint. */
function assertRefused(raw: string, detail?: RegExp): void {
  assert.throws(
    () => parseRestoreUntil(raw),
    (e: unknown) => {
      assert.ok(e instanceof QuiverError, `expected a QuiverError for ${JSON.stringify(raw)}`);
      assert.equal(e.code, 'UsageInvalid');
      assert.ok(e.message.includes(`"${raw}"`), `message names the value: ${e.message}`);
      if (detail) assert.match(e.message, detail);
      assert.match(e.hint ?? '', /transaction id such as 123 or a UTC time such as "\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"/);
      return true;
    },
  );
}

describe('parseRestoreUntil', () => {
  it('reads a transaction id', () => {
    assert.deepEqual(parseRestoreUntil('123'), { kind: 'tx', txId: 123 });
    assert.deepEqual(parseRestoreUntil(' 2 '), { kind: 'tx', txId: 2 });
    assert.deepEqual(parseRestoreUntil(String(Number.MAX_SAFE_INTEGER)), { kind: 'tx', txId: Number.MAX_SAFE_INTEGER });
  });

  it('reads the documented UTC form "YYYY-MM-DD HH:MM:SS"', () => {
    assert.deepEqual(parseRestoreUntil('2023-06-29 13:50:45'), { kind: 'time', epochMs: Date.UTC(2023, 5, 29, 13, 50, 45), text: '2023-06-29 13:50:45' });
  });

  it('reads the T and Z forms scripts produce, and milliseconds, all as UTC', () => {
    const expected = Date.UTC(2023, 5, 29, 13, 50, 45);
    assert.equal((parseRestoreUntil('2023-06-29T13:50:45') as { epochMs: number }).epochMs, expected);
    assert.equal((parseRestoreUntil('2023-06-29T13:50:45Z') as { epochMs: number }).epochMs, expected);
    assert.equal((parseRestoreUntil('2023-06-29 13:50:45.250Z') as { epochMs: number }).epochMs, expected + 250);
    assert.equal((parseRestoreUntil('2023-06-29 13:50:45.5') as { epochMs: number }).epochMs, expected + 500);
    assert.equal((parseRestoreUntil('2024-02-29 00:00:00') as { epochMs: number }).epochMs, Date.UTC(2024, 1, 29));
  });

  it('refuses transaction ids below 2 and beyond exact integers, with the hint', () => {
    assertRefused('0', /from 2 to/);
    assertRefused('1', /from 2 to/);
    assertRefused('99999999999999999999', /from 2 to/);
  });

  it('refuses malformed values with the hint', () => {
    for (const raw of ['', 'yesterday', '-5', '12a', '1.5', '2023-06-29', '2023-06-29 13:50', '13:50:45', '2023/06/29 13:50:45', '2023-06-29 13:50:45+01:00', '2023-06-29  13:50:45']) {
      assertRefused(raw);
    }
  });

  it('refuses dates and times that do not exist instead of rolling them over', () => {
    for (const raw of ['2023-02-29 10:00:00', '2023-13-01 10:00:00', '2023-00-10 10:00:00', '2023-06-31 10:00:00', '2023-06-29 24:00:00', '2023-06-29 10:60:00', '2023-06-29 10:00:61']) {
      assertRefused(raw);
    }
  });
});

describe('isPastLimit', () => {
  it('restores everything without a limit', () => {
    assert.equal(isPastLimit(null, Number.MAX_SAFE_INTEGER, Date.now()), false);
  });

  it('with a transaction id, stops at that transaction: it is not restored', () => {
    const limit = parseRestoreUntil('10');
    assert.equal(isPastLimit(limit, 9, 0), false);
    assert.equal(isPastLimit(limit, 10, 0), true);
    assert.equal(isPastLimit(limit, 11, 0), true);
  });

  it('with a time, restores only transactions committed strictly before it', () => {
    const limit = parseRestoreUntil('2023-06-29 13:50:45');
    const t = Date.UTC(2023, 5, 29, 13, 50, 45);
    assert.equal(isPastLimit(limit, 1_000, t - 1), false);
    assert.equal(isPastLimit(limit, 1, t), true);
    assert.equal(isPastLimit(limit, 1, t + 1), true);
  });
});
