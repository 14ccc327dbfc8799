import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './server';

/**
 * A real MIT Kerberos KDC (Debian's krb5-kdc) for a realm, its database in a temporary
 * directory, listening on a free loopback port; `stop()` ends it by its process id.
 */
export class MitKdc {
  private constructor(
    readonly realm: string,
    readonly port: number,
    private readonly dir: string,
    private readonly child: ChildProcess,
  ) {}

  static async start(realm: string): Promise<MitKdc> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'edgeshare-e2e-kdc-'));
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    writeFileSync(
      path.join(dir, 'kdc.conf'),
      `[kdcdefaults]\n kdc_listen = ${address}\n kdc_tcp_listen = ${address}\n[realms]\n ${realm} = {\n` +
        `  database_name = ${dir}/principal\n  key_stash_file = ${dir}/stash\n  acl_file = ${dir}/kadm5.acl\n }\n` +
        `[logging]\n kdc = FILE:${dir}/kdc.log\n`,
    );
    writeFileSync(
      path.join(dir, 'krb5.conf'),
      `[libdefaults]\n default_realm = ${realm}\n[realms]\n ${realm} = {\n  kdc = ${address}\n }\n`,
    );
    const env = { ...process.env, KRB5_CONFIG: path.join(dir, 'krb5.conf'), KRB5_KDC_PROFILE: path.join(dir, 'kdc.conf') };
    execFileSync('kdb5_util', ['create', '-s', '-r', realm, '-P', 'master-password-1'], { env, stdio: 'pipe' });
    const child = spawn('krb5kdc', ['-n', '-r', realm], { env, stdio: 'ignore' });
    const kdc = new MitKdc(realm, port, dir, child);
    const deadline = Date.now() + 10_000;
    while (!(await listening(port))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        kdc.stop();
        throw new Error(`krb5kdc does not listen on ${address}: ${kdc.log()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return kdc;
  }

  log(): string {
    try {
      return readFileSync(path.join(this.dir, 'kdc.log'), 'utf8');
    } catch {
      return '';
    }
  }

  stop(): void {
    if (this.child.exitCode === null && this.child.pid !== undefined) {
      process.kill(this.child.pid);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/** A keytab written by MIT's ktutil, as `kadmin ktadd` would: one key version in two AES enctypes. */
export function ktutilKeytab(dir: string, principal: string, kvno: number): string {
  const file = path.join(dir, `${principal.replace(/[^A-Za-z0-9.]/g, '_')}-kvno${kvno}.keytab`);
  const script = ['aes256-cts-hmac-sha1-96', 'aes128-cts-hmac-sha1-96']
    .map((enctype) => `addent -password -p ${principal} -k ${kvno} -e ${enctype}\nkeytab secret ${kvno}\n`)
    .join('');
  execFileSync('ktutil', [], { input: `${script}wkt ${file}\nquit\n`, stdio: ['pipe', 'pipe', 'pipe'] });
  return file;
}
