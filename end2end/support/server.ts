// Starts and stops a real edgeshare server for a spec: its own data directory, a free loopback
// port, HTTPS with the self-signed certificate it generates at first start.
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const repo = path.resolve(__dirname, '..', '..');
const targetDir = process.env.CARGO_TARGET_DIR || path.join(repo, 'target');
export const binary = process.env.EDGESHARE_BIN || path.join(targetDir, 'debug', 'edgeshare');
/** The native SMB over QUIC client (the smb crate), built by scripts/test.sh. */
export const quicClient = path.join(targetDir, 'debug', 'examples', 'quic_client');
const siteRoot = path.join(repo, 'target', 'site');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address() as net.AddressInfo;
      probe.close(() => resolve(address.port));
    });
  });
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = https.get(url, { rejectUnauthorized: false, timeout: 2000 }, (response) => {
      let body = '';
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    request.on('timeout', () => request.destroy(new Error('timeout')));
  });
}

export class EdgeShare {
  private log = '';

  private constructor(
    readonly dataDir: string,
    readonly url: string,
    private readonly process: ChildProcess,
    /** The loopback port of SMB over TCP, when the spec asked for it. */
    readonly smbPort: number | null,
  ) {
    process.stdout?.on('data', (chunk) => (this.log += chunk));
    process.stderr?.on('data', (chunk) => (this.log += chunk));
  }

  /** With `smbTcp`, SMB over TCP listens on a free loopback port too (see `smbPort`). */
  static async start(options: { smbTcp?: boolean } = {}): Promise<EdgeShare> {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'edgeshare-e2e-'));
    const port = await freePort();
    const smbPort = options.smbTcp ? await freePort() : null;
    const args = ['--data-dir', dataDir, 'serve', '--console-addr', `127.0.0.1:${port}`, '--site-root', siteRoot,
      '--server-name', 'e2e.edgeshare.test'];
    if (smbPort !== null) args.push('--smb-tcp-addr', `127.0.0.1:${smbPort}`);
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const server = new EdgeShare(dataDir, `https://127.0.0.1:${port}`, child, smbPort);
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`edgeshare exited early:\n${server.log}`);
      try {
        const { status } = await get(`${server.url}/healthz`);
        if (status === 200) return server;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`edgeshare did not start:\n${server.log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Runs `edgeshare --data-dir <this server's> ...args`, with `stdin` as standard input. */
  cli(args: string[], stdin = ''): string {
    const result = spawnSync(binary, ['--data-dir', this.dataDir, ...args], { input: stdin, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`edgeshare ${args.join(' ')} failed: ${result.stderr}`);
    return result.stdout;
  }

  /**
   * Runs Samba's smbclient against this server's SMB over TCP: `commands` (e.g. 'ls; get a.txt -')
   * in `share` as `user`. Resolves with its exit status and output; never throws on failure.
   */
  smbclient(share: string, user: string, password: string, commands: string): { status: number; output: string } {
    if (this.smbPort === null) throw new Error('start the server with { smbTcp: true }');
    const result = spawnSync(
      'smbclient',
      [`//127.0.0.1/${share}`, '-p', String(this.smbPort), '-U', `${user}%${password}`, '-m', 'SMB3', '-c', commands],
      { encoding: 'utf8', timeout: 20_000 },
    );
    return { status: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
  }

  async stop(): Promise<void> {
    if (this.process.exitCode === null) {
      const exited = new Promise((r) => this.process.once('exit', r));
      this.process.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
