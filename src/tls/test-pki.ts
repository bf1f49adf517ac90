/**
 * A throw-away public key infrastructure for tests, made with the `openssl` command at run time in a
 * temporary folder: a CA (`openssl ca`, so certificates can be back- or post-dated and revoked), and
 * leaf certificates with chosen names, validity and key password. Never used by the product.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface IssuedCertificate {
  /** PEM certificate file. */
  cert: string;
  /** PEM private key file (encrypted when issued with a keyPassword). */
  key: string;
}

export interface IssueOptions {
  commonName?: string;
  /** subjectAltName entries, e.g. `DNS:localhost`, `IP:127.0.0.1`; default both of those. */
  altNames?: string[];
  /** Validity start relative to now, in days (negative: in the past); default -1. */
  notBeforeDays?: number;
  /** Validity end relative to now, in days (negative: already expired); default 30. */
  notAfterDays?: number;
  /** Encrypt the private key (AES-256) with this password. */
  keyPassword?: string;
}

function run(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `YYMMDDHHMMSSZ` (the form `openssl ca -startdate` takes) for now + `days`. */
function asn1Time(days: number): string {
  const t = new Date(Date.now() + days * 86_400_000).toISOString();
  return t.slice(2, 4) + t.slice(5, 7) + t.slice(8, 10) + t.slice(11, 13) + t.slice(14, 16) + t.slice(17, 19) + 'Z';
}

export class TestCa {
  readonly cert: string;
  private readonly key: string;
  private readonly conf: string;
  private issued = 0;

  constructor(
    readonly dir: string,
    readonly name: string,
  ) {
    mkdirSync(join(dir, 'newcerts'), { recursive: true });
    writeFileSync(join(dir, 'index.txt'), '');
    writeFileSync(join(dir, 'serial'), '1000\n');
    writeFileSync(join(dir, 'crlnumber'), '1000\n');
    this.cert = join(dir, 'ca.crt');
    this.key = join(dir, 'ca.key');
    this.conf = join(dir, 'ca.cnf');
    writeFileSync(
      this.conf,
      [
        '[ ca ]',
        'default_ca = ca_default',
        '[ ca_default ]',
        `dir = ${dir}`,
        'database = $dir/index.txt',
        'new_certs_dir = $dir/newcerts',
        'certificate = $dir/ca.crt',
        'private_key = $dir/ca.key',
        'serial = $dir/serial',
        'crlnumber = $dir/crlnumber',
        'default_md = sha256',
        'default_days = 30',
        'default_crl_days = 30',
        'policy = policy_any',
        'copy_extensions = copy',
        'unique_subject = no',
        '[ policy_any ]',
        'commonName = supplied',
        '[ req ]',
        'distinguished_name = dn',
        '[ dn ]',
        '[ v3_ca ]',
        'basicConstraints = critical, CA:TRUE',
        'keyUsage = critical, keyCertSign, cRLSign',
        'subjectKeyIdentifier = hash',
        '[ leaf ]',
        'basicConstraints = CA:FALSE',
        'keyUsage = critical, digitalSignature, keyEncipherment',
        'extendedKeyUsage = serverAuth, clientAuth',
        'subjectKeyIdentifier = hash',
        'authorityKeyIdentifier = keyid',
        '',
      ].join('\n'),
    );
    run(['req', '-x509', '-new', '-newkey', 'rsa:2048', '-nodes', '-config', this.conf, '-extensions', 'v3_ca', '-keyout', this.key, '-out', this.cert, '-days', '60', '-subj', `/CN=${name}`], dir);
  }

  /** Issues a leaf certificate usable by servers and clients alike. */
  issue(fileStem: string, options: IssueOptions = {}): IssuedCertificate {
    if (fileStem === 'ca') throw new Error('assertion failed: "ca" is the CA\'s own key and certificate; pick another file stem');
    const n = ++this.issued;
    const key = join(this.dir, `${fileStem}.key`);
    const cert = join(this.dir, `${fileStem}.crt`);
    const csr = join(this.dir, `${fileStem}-${n}.csr`);
    const altNames = options.altNames ?? ['DNS:localhost', 'IP:127.0.0.1'];
    run(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-config', this.conf, '-keyout', key, '-out', csr, '-subj', `/CN=${options.commonName ?? fileStem}`, ...(altNames.length ? ['-addext', `subjectAltName=${altNames.join(',')}`] : [])], this.dir);
    run(['ca', '-batch', '-config', this.conf, '-extensions', 'leaf', '-in', csr, '-out', cert, '-notext', '-startdate', asn1Time(options.notBeforeDays ?? -1), '-enddate', asn1Time(options.notAfterDays ?? 30)], this.dir);
    if (options.keyPassword !== undefined) {
      run(['pkey', '-in', key, '-out', `${key}.enc`, '-aes256', '-passout', `pass:${options.keyPassword}`], this.dir);
      renameSync(`${key}.enc`, key);
    }
    return { cert, key };
  }

  /** Revokes a certificate this CA issued; call `writeCrl` afterwards. */
  revoke(cert: IssuedCertificate): void {
    run(['ca', '-config', this.conf, '-revoke', cert.cert], this.dir);
  }

  /** Writes this CA's current certificate revocation list (PEM) to `path`. */
  writeCrl(path: string): void {
    run(['ca', '-config', this.conf, '-gencrl', '-out', path], this.dir);
  }
}

/** A temporary folder with CAs in subfolders; `cleanup()` removes it with every key. */
export class TestPki {
  readonly dir = mkdtempSync(join(tmpdir(), 'quiver-pki-'));
  ca(name: string): TestCa {
    return new TestCa(join(this.dir, name.replace(/\W+/g, '-')), name);
  }
  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
