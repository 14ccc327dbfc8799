import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { EdgeShare } from '../support/server';
import { screenshot, signIn } from '../support/console';

let server: EdgeShare;
let shareDir: string;
test.beforeAll(async () => {
  server = await EdgeShare.start({ smbTcp: true });
  server.cli(['admin', 'add', 'boss', '--role', 'admin', '--password-stdin'], 'boss password 123\n');
  server.cli(['admin', 'add', 'auditor', '--role', 'reader', '--password-stdin'], 'auditor password 1\n');
  server.cli(['user', 'add', 'alice', '--password-stdin'], 'Alice-pass-1\n');
  shareDir = mkdtempSync(path.join(os.tmpdir(), 'edgeshare-e2e-share-'));
  writeFileSync(path.join(shareDir, 'hello.txt'), 'hello from the share\n');
  server.cli(['share', 'add', 'docs', shareDir, '--full', 'alice']);
  // The running server takes the new user and share within a second.
  await expect.poll(() => server.smbclient('docs', 'alice', 'Alice-pass-1', 'ls').status).toBe(0);
});
test.afterAll(async () => {
  await server.stop();
  rmSync(shareDir, { recursive: true, force: true });
});

/** An interactive smbclient that stays connected, fed commands through its standard input. */
class Client {
  output = '';
  private constructor(private readonly process: ChildProcessWithoutNullStreams) {
    process.stdout.on('data', (chunk) => (this.output += chunk));
    process.stderr.on('data', (chunk) => (this.output += chunk));
  }

  static start(port: number): Client {
    return new Client(
      // stdbuf: smbclient buffers its output when it is not a terminal.
      spawn(
        'stdbuf',
        ['-o0', '-e0', 'smbclient', '//127.0.0.1/docs', '-p', String(port), '-U', 'alice%Alice-pass-1', '-m', 'SMB3'],
        { stdio: ['pipe', 'pipe', 'pipe'] },
      ),
    );
  }

  /** Sends one command and waits until the output matches `expected`. */
  async run(command: string, expected: RegExp): Promise<void> {
    const from = this.output.length;
    this.process.stdin.write(`${command}\n`);
    await expect.poll(() => this.output.slice(from), { message: `smbclient: ${command}` }).toMatch(expected);
  }

  async stop(): Promise<void> {
    if (this.process.exitCode !== null) return;
    const exited = new Promise((r) => this.process.once('exit', r));
    this.process.stdin.end('quit\n');
    await exited;
  }
}

test('the sessions page shows a connected client and its open file, and closing them disconnects it', async ({ page }) => {
  const client = Client.start(server.smbPort!);
  try {
    await client.run('open hello.txt', /fnum|opened/i);
    await signIn(page, server.url, 'boss', 'boss password 123');
    await page.goto(`${server.url}/sessions`);
    const session = page.locator('tr[data-user="alice"]');
    await expect(session).toBeVisible();
    await expect(session.getByRole('cell', { name: 'TCP' })).toBeVisible();
    await expect(session.getByRole('cell', { name: '3.1.1' })).toBeVisible();
    await expect(session.getByRole('cell', { name: 'docs' })).toBeVisible();
    const file = page.locator('table.open-files tr', { hasText: 'docs\\hello.txt' });
    await expect(file).toBeVisible();
    await screenshot(page, 'sessions');

    // The tables refresh by themselves: a second client appears without a reload.
    const second = Client.start(server.smbPort!);
    try {
      await second.run('ls', /hello\.txt/);
      await expect(page.locator('tr[data-user="alice"]')).toHaveCount(2);
    } finally {
      await second.stop();
    }
    await expect(page.locator('tr[data-user="alice"]')).toHaveCount(1);

    await file.getByRole('button', { name: 'Close docs\\hello.txt' }).click();
    await page.getByRole('button', { name: 'Close file' }).click();
    await expect(page.locator('table.open-files')).toHaveCount(0);
    await expect(page.getByText('No file is open.')).toBeVisible();

    await session.getByRole('button', { name: /Close the session of alice/ }).click();
    await expect(page.getByRole('group', { name: /Close alice's session/ })).toBeVisible();
    await page.getByRole('button', { name: 'Close session' }).click();
    await expect(page.getByText('No one is connected.')).toBeVisible();
    // The client's next request fails: its session is gone.
    await client.run('ls', /NT_STATUS_USER_SESSION_DELETED|NT_STATUS_NETWORK_NAME_DELETED|NT_STATUS_CONNECTION/);

    await page.goto(`${server.url}/audit`);
    const closed = page.locator('tr[data-action="smb.session.close"]');
    await expect(closed).toContainText('boss');
    await expect(closed).toContainText('alice');
    await expect(page.locator('tr[data-action="smb.file.close"]')).toContainText('docs\\hello.txt');
  } finally {
    await client.stop();
  }
});

test('a reader sees sessions but cannot close them, and the server refuses it', async ({ page }) => {
  const client = Client.start(server.smbPort!);
  try {
    await client.run('ls', /hello\.txt/);
    await signIn(page, server.url, 'auditor', 'auditor password 1');
    await page.goto(`${server.url}/sessions`);
    await expect(page.locator('tr[data-user="alice"]')).toBeVisible();
    await expect(page.getByRole('button', { name: /Close/ })).toHaveCount(0);
    await screenshot(page, 'sessions-reader');
    const response = await page.request.post(`${server.url}/api/close_session`, {
      form: { connection: '1', session_id: '1' },
      headers: { Origin: server.url },
    });
    expect(response.status()).toBe(403);
    // Still connected.
    await client.run('ls', /hello\.txt/);
  } finally {
    await client.stop();
  }
});

test('an administrator sets how long durable opens wait for their client, checked at the field and audited', async ({
  page,
}) => {
  await signIn(page, server.url, 'boss', 'boss password 123');
  await page.goto(`${server.url}/sessions`);
  const card = page.locator('section', { has: page.getByRole('heading', { name: 'Durable opens' }) });
  await expect(page.getByTestId('durable-summary')).toHaveText('Durable opens wait 60 seconds for their client.');
  const field = card.getByLabel('Wait for the client (seconds)');
  await field.fill('301');
  await card.getByRole('button', { name: 'Save' }).click();
  await expect(card.locator('#durable-seconds-error')).toContainText('from 1 to 300');
  expect(server.cli(['settings', 'list'])).toMatch(/durable_timeout_seconds\s+60 /);
  await field.fill('120');
  await card.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByTestId('durable-summary')).toHaveText('Durable opens wait 120 seconds for their client.');
  expect(server.cli(['settings', 'list'])).toMatch(/durable_timeout_seconds\s+120 /);
  await page.goto(`${server.url}/audit?action=smb.`);
  await expect(
    page.locator('tr[data-action="smb.settings.change"]', { hasText: 'durable_timeout_seconds' }).first(),
  ).toContainText('default -> 120');
  await screenshot(page, 'sessions-durable');
});
