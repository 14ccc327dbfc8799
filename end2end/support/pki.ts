// A certificate authority of the test's own, made with openssl: server certificates it issues
// are trusted as a real CA's would be once imported, unlike the self-signed ones the console
// generates (which the health report warns about).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export class TestCa {
  private constructor(readonly dir: string) {}

  /** A CA in a fresh temporary directory. */
  static create(): TestCa {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'edgeshare-e2e-pki-'));
    const ca = new TestCa(dir);
    ca.openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key',
      '-out', 'ca.pem', '-days', '30', '-subj', '/CN=E2E Issuing CA', '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    writeFileSync(path.join(dir, 'index.txt'), '');
    writeFileSync(path.join(dir, 'serial'), '1000\n');
    writeFileSync(path.join(dir, 'ca.cnf'), [
      '[ca]', 'default_ca = edge', '[edge]', `dir = ${dir}`, `database = ${dir}/index.txt`, `new_certs_dir = ${dir}`,
      `serial = ${dir}/serial`, 'default_md = sha256', 'policy = any', 'unique_subject = no', '[any]',
      'commonName = supplied', ''].join('\n'));
    return ca;
  }

  private openssl(args: string[]): void {
    execFileSync('openssl', args, { cwd: this.dir, stdio: 'pipe' });
  }

  /**
   * A server certificate for `dnsName` (file names start with `name`), valid from an hour ago
   * for `seconds`; returns the paths of its chain and key.
   */
  issue(name: string, dnsName: string, seconds: number): { chain: string; key: string } {
    writeFileSync(path.join(this.dir, `${name}.ext`), ['basicConstraints = CA:FALSE',
      'keyUsage = critical,digitalSignature', 'extendedKeyUsage = serverAuth', `subjectAltName = DNS:${dnsName}`, '']
      .join('\n'));
    this.openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout',
      `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${dnsName}`]);
    this.openssl(['ca', '-batch', '-config', 'ca.cnf', '-in', `${name}.csr`, '-out', `${name}.pem`, '-notext', '-cert',
      'ca.pem', '-keyfile', 'ca.key', '-extfile', `${name}.ext`, '-startdate', when(-3600), '-enddate', when(seconds)]);
    return { chain: path.join(this.dir, `${name}.pem`), key: path.join(this.dir, `${name}.key`) };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** openssl's GeneralizedTime for `seconds` from now. */
function when(seconds: number): string {
  return new Date(Date.now() + seconds * 1000).toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z');
}
