import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isQuiverError } from '../util/errors.js';
import { commandOf, expandValue, type ExpandOptions, splitCommandLine } from './expand.js';

const dir = mkdtempSync(join(tmpdir(), 'quiver-expand-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const on: ExpandOptions = { expandCommands: true, timeoutMs: 10_000, env: process.env };

function confFile(name: string, mode: number): string {
  const path = join(dir, name);
  writeFileSync(path, 'irrelevant=1\n');
  chmodSync(path, mode);
  return path;
}

function configError(pattern: RegExp, hint?: RegExp) {
  return (e: unknown) => {
    assert.ok(isQuiverError(e, 'ConfigInvalid'), String(e));
    assert.match(e.message, pattern);
    if (hint !== undefined) assert.match(e.hint ?? '', hint);
    return true;
  };
}

describe('commandOf', () => {
  it('recognises $(…) values only', () => {
    assert.equal(commandOf('$(echo hi)'), 'echo hi');
    assert.equal(commandOf('  $(x)  '), 'x');
    assert.equal(commandOf('$()'), undefined);
    assert.equal(commandOf('a$(x)'), undefined);
    assert.equal(commandOf('$(x'), undefined);
    assert.equal(commandOf('plain'), undefined);
  });
});

describe('splitCommandLine', () => {
  it('splits on whitespace and removes quotes without expanding anything', () => {
    assert.deepEqual(splitCommandLine(`get-secret  'a b' "c \\"d\\"" e\\ f $HOME | x`), {
      ok: true,
      argv: ['get-secret', 'a b', 'c "d"', 'e f', '$HOME', '|', 'x'],
    });
    assert.deepEqual(splitCommandLine(`sh -c 'echo "$0"'`), { ok: true, argv: ['sh', '-c', 'echo "$0"'] });
    assert.deepEqual(splitCommandLine(`x ''`), { ok: true, argv: ['x', ''] });
  });

  it('rejects unclosed quotes, a trailing backslash and an empty command', () => {
    assert.equal(splitCommandLine(`x 'y`).ok, false);
    assert.equal(splitCommandLine(`x "y`).ok, false);
    assert.equal(splitCommandLine(`x \\`).ok, false);
    assert.equal(splitCommandLine(`   `).ok, false);
  });
});

describe('expandValue', () => {
  const file = confFile('ok.conf', 0o600);

  it('returns a plain value unchanged, whatever the options', () => {
    assert.equal(expandValue('k', 'plain', file, { ...on, expandCommands: false }), 'plain');
  });

  it('runs the command without a shell and returns its trimmed stdout', () => {
    assert.equal(expandValue('k', '$(echo "  hello   world  ")', file, on), 'hello   world');
    assert.equal(expandValue('k', '$(echo $HOME)', file, on), '$HOME');
    assert.equal(expandValue('k', `$(sh -c 'printf "%s" secret')`, file, on), 'secret');
  });

  it('refuses a command when expansion is off, naming the key and --expand-commands', () => {
    assert.throws(
      () => expandValue('dbms.ssl.policy.backup.private_key_password', '$(echo x)', file, { ...on, expandCommands: false }),
      configError(/"dbms\.ssl\.policy\.backup\.private_key_password".*is a command, but command expansion is off/, /--expand-commands/),
    );
  });

  it('runs commands from files of mode 0600, 0640 and 0400', () => {
    for (const mode of [0o600, 0o640, 0o400]) {
      assert.equal(expandValue('k', '$(echo ok)', confFile(`mode-${mode.toString(8)}.conf`, mode), on), 'ok');
    }
  });

  it('refuses commands from a file readable by others, writable by the group or executable, naming file, mode and chmod 640', () => {
    for (const mode of [0o644, 0o660, 0o700, 0o604]) {
      const path = confFile(`wide-${mode.toString(8)}.conf`, mode);
      assert.throws(
        () => expandValue('k', '$(echo x)', path, on),
        configError(new RegExp(`"${path}" has mode 0${mode.toString(8)}, wider than the 0640`), /chmod 640/),
      );
    }
  });

  it('reports a failing command with the key, the program, its exit status and its stderr', () => {
    assert.throws(
      () => expandValue('my.key', `$(sh -c 'echo oops >&2; exit 3')`, file, on),
      configError(/setting "my\.key": "sh" exited with status 3: oops/),
    );
  });

  it('reports a program that does not exist', () => {
    assert.throws(
      () => expandValue('my.key', '$(/nonexistent/get-secret)', file, on),
      configError(/"my\.key": "\/nonexistent\/get-secret" was not found/),
    );
  });

  it('kills a command that outlives the timeout', () => {
    const started = Date.now();
    assert.throws(
      () => expandValue('my.key', '$(sleep 10)', file, { ...on, timeoutMs: 200 }),
      configError(/"my\.key": "sleep" did not finish within 200 ms/),
    );
    assert.ok(Date.now() - started < 5_000);
  });

  it('reports unclosed quotes in the command', () => {
    assert.throws(() => expandValue('my.key', `$(echo 'x)`, file, on), configError(/"my\.key".*quote is not closed/));
  });
});
