/**
 * `quiver-admin server reload-certificates`: makes the server running from this home read its TLS files
 * again (SIGHUP to the pid in run/quiver.pid, once pid-file.ts has checked it is this home's server) and
 * prints the server's outcome per policy (run/tls-reload.json, server/certificate-reload.ts). Exits non-zero
 * when a policy kept its previous material, with the server's line saying which file and what to fix.
 */
import { Command } from 'commander';
import { layoutOf } from '../server/home.js';
import { pidFileState } from '../server/pid-file.js';
import { type CertificateReloadRecord, readReloadRecord, reloadRecordFile } from '../server/certificate-reload.js';
import { reloadReplyPollMs, reloadReplyWaitMs } from '../tls/limits.js';
import { errnoCode, errorTable, QuiverError } from '../util/errors.js';
import { addCommonOptions, type CommonAdminOptions, loadAdminConfig } from './options.js';
import { adminLogger } from './output.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function reloadCertificatesCommand(setCode: (code: number) => void): Command {
  const cmd = new Command('reload-certificates').description(
    'Make the server running from this home re-read the key, certificate, trusted and revoked files of every enabled TLS policy (as SIGHUP does). New connections use the new files; open ones finish with the old.',
  );
  addCommonOptions(cmd);
  cmd.action(async (o: CommonAdminOptions) => {
    const log = adminLogger(false);
    const config = loadAdminConfig('quiver-admin-server-reload-certificates.conf', o, (m) => log('warn', m));
    const layout = layoutOf(config);
    const state = pidFileState(layout.pidFile, config.home);
    if (state.kind !== 'running') {
      const why = state.kind === 'absent' ? `"${layout.pidFile}" does not exist` : `the pid file "${layout.pidFile}" is stale: ${state.reason}`;
      throw new QuiverError('ServerNotRunning', `cannot reload certificates: no Quiver server runs from "${config.home}": ${why}`, {
        hint: 'a server reads its certificates when it starts; set QUIVER_HOME to the home of the running server if this is the wrong one',
      });
    }
    const file = reloadRecordFile(layout);
    const sentAtMs = Date.now();
    try {
      process.kill(state.pid, 'SIGHUP');
    } catch (e) {
      throw new QuiverError('Forbidden', `cannot reload certificates: cannot signal the server (pid ${state.pid}): ${errnoCode(e) ?? (e as Error).message}`, {
        hint: 'run quiver-admin as the user that runs the server',
        cause: e,
      });
    }
    let record: CertificateReloadRecord | undefined;
    for (const deadline = Date.now() + reloadReplyWaitMs; Date.now() < deadline; await sleep(reloadReplyPollMs)) {
      const r = readReloadRecord(file);
      if (r && r.pid === state.pid && r.startedAtMs >= sentAtMs) {
        record = r;
        break;
      }
    }
    if (record === undefined) {
      throw new QuiverError('ServerUnreachable', `the server (pid ${state.pid}) did not report a certificate reload in "${file}" within ${reloadReplyWaitMs / 1000} s`, {
        hint: `its log (logs/quiver.log) says whether it reloaded; check that "${layout.runDir}" is writable by it`,
      });
    }
    if (record.policies.length === 0) {
      log('warn', `the server (pid ${state.pid}) has no TLS policy enabled (dbms.ssl.policy.bolt, dbms.ssl.policy.backup): no certificates to reload`);
      setCode(0);
      return;
    }
    for (const p of record.policies) log(p.ok ? 'info' : 'error', p.message);
    const failed = record.policies.filter((p) => !p.ok).length;
    if (failed > 0) log('error', `${failed} of ${record.policies.length} TLS ${record.policies.length === 1 ? 'policy' : 'policies'} kept the previous certificates (the line${failed === 1 ? '' : 's'} above say${failed === 1 ? 's' : ''} what to fix)`);
    setCode(failed > 0 ? errorTable.TlsPolicyInvalid.exitCode : 0);
  });
  return cmd;
}
