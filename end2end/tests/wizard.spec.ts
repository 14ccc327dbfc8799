import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { EdgeShare, freePort, quicClient } from '../support/server';
import { hydrated, screenshot, signIn } from '../support/console';
import { MitKdc, ktutilKeytab } from '../support/kdc';

let server: EdgeShare;
let work: string;
test.beforeAll(async () => {
  server = await EdgeShare.start();
  work = mkdtempSync(path.join(os.tmpdir(), 'edgeshare-e2e-wizard-'));
});
test.afterAll(async () => {
  await server.stop();
  rmSync(work, { recursive: true, force: true });
});

test('from a fresh server, the wizard sets up SMB over QUIC and a native client reads and writes the new share', async ({ page }) => {
  test.setTimeout(120_000);
  const shareDir = mkdtempSync(path.join(work, 'projects-'));
  const port = await freePort();

  await page.goto(`${server.url}/setup`);
  await hydrated(page);
  await page.getByLabel('Account name').fill('admin');
  await page.getByLabel('Password', { exact: true }).fill('correct horse battery');
  await page.getByLabel('Confirm password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Create administrator' }).click();
  await expect(page).toHaveURL(`${server.url}/welcome`);
  await hydrated(page);

  // 1. A certificate for localhost, issued by a local CA.
  await expect(page.getByRole('button', { name: 'Next' })).toBeDisabled();
  await page.getByLabel('DNS names clients use').fill('localhost');
  await page.getByLabel('Issue from local CA (optional)').fill('E2E Wizard CA');
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Added CN=localhost' })).toBeVisible();
  await expect(page.getByRole('radio')).toBeChecked();
  await screenshot(page, 'wizard-certificate');
  await page.getByRole('button', { name: 'Next' }).click();

  // 2. Its names, all chosen.
  await expect(page.getByLabel('localhost')).toBeChecked();
  await page.getByRole('button', { name: 'Next' }).click();

  // 3. Where SMB over QUIC listens.
  await page.getByLabel('Listen on address').fill('127.0.0.1');
  await page.getByLabel('UDP port').fill(String(port));
  await page.getByRole('button', { name: 'Next' }).click();

  // 4. Kerberos is optional: skipped, for local users only.
  await expect(page.getByLabel('Use Kerberos through the KDC proxy')).not.toBeChecked();
  await page.getByRole('button', { name: 'Next' }).click();

  // 5. The first share and user; a typing mistake is caught next to its field.
  await page.getByLabel('Share name').fill('projects');
  await page.getByLabel('Folder on this server').fill(shareDir);
  await page.getByLabel('User name').fill('carol');
  await page.getByLabel('Password', { exact: true }).fill('Carol-pass-1');
  await page.getByLabel('Confirm password').fill('Carol-pass-2');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page.locator('#wizard-confirm-error')).toContainText('differ');
  await expect(server.cli(['share', 'list'])).not.toContain('projects');
  await page.getByLabel('Confirm password').fill('Carol-pass-1');
  await page.getByRole('button', { name: 'Apply' }).click();

  // 6. What clients do, and the CA they must trust.
  const summary = page.getByTestId('wizard-summary');
  await expect(summary).toContainText(`NET USE * \\\\localhost\\projects /TRANSPORT:QUIC /QUICPORT:${port}`);
  await expect(summary).toContainText('New-SmbMapping -LocalPath Z: -RemotePath \\\\localhost\\projects -TransportType QUIC');
  await expect(summary).toContainText('hosts file');
  await expect(page.getByTestId('wizard-kerberos')).toHaveCount(0);
  await screenshot(page, 'wizard-summary');
  const download = page.waitForEvent('download');
  await summary.getByRole('link', { name: /Download .*-ca\.pem/ }).click();
  const ca = path.join(work, 'ca.pem');
  await (await download).saveAs(ca);
  expect(execFileSync('openssl', ['x509', '-in', ca, '-noout', '-subject'], { encoding: 'utf8' })).toContain('E2E Wizard CA');

  // A native SMB over QUIC client (the smb crate) trusting only that CA writes and reads the share.
  let read = '';
  await expect(async () => {
    read = execFileSync(quicClient, [`127.0.0.1:${port}`, 'localhost', ca, 'projects', 'carol', 'Carol-pass-1',
      'hello.txt', 'written over QUIC'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }).toPass({ timeout: 20_000, intervals: [1_000] });
  expect(read.trim()).toBe('written over QUIC');
  expect(readFileSync(path.join(shareDir, 'hello.txt'), 'utf8')).toBe('written over QUIC');

  await page.goto(`${server.url}/audit`);
  await expect(page.locator('tr[data-action="quic.setup"]')).toContainText('admin');
});

test('the wizard\'s Kerberos step sets up the realm, its keytab and the KDC proxy, and shows the client settings', async ({ page }) => {
  test.setTimeout(120_000);
  const fresh = await EdgeShare.start();
  const kdc = await MitKdc.start('EXAMPLE.TEST');
  try {
    const shareDir = mkdtempSync(path.join(work, 'sales-'));
    const quicPort = await freePort();
    const proxyPort = await freePort();
    await page.goto(`${fresh.url}/setup`);
    await hydrated(page);
    await page.getByLabel('Account name').fill('admin');
    await page.getByLabel('Password', { exact: true }).fill('correct horse battery');
    await page.getByLabel('Confirm password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create administrator' }).click();
    await expect(page).toHaveURL(`${fresh.url}/welcome`);
    await hydrated(page);
    await page.getByLabel('DNS names clients use').fill('localhost');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await expect(page.getByRole('radio')).toBeChecked();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel('Listen on address').fill('127.0.0.1');
    await page.getByLabel('UDP port').fill(String(quicPort));
    await page.getByRole('button', { name: 'Next' }).click();

    // The Kerberos step, first with the keytab of another name: refused at that field on Apply,
    // with nothing changed.
    await page.getByLabel('Use Kerberos through the KDC proxy').check();
    await expect(page.getByRole('button', { name: 'Next' })).toBeDisabled();
    await page.getByLabel('Realm').fill('EXAMPLE.TEST');
    await page.getByLabel('KDCs').fill(`127.0.0.1:${kdc.port}`);
    await page.getByLabel('KDC proxy TCP port').fill(String(proxyPort));
    await page.getByLabel('Keytab of the names clients use').setInputFiles(ktutilKeytab(work, 'cifs/other@EXAMPLE.TEST', 1));
    await screenshot(page, 'wizard-kerberos');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel('Share name').fill('sales');
    await page.getByLabel('Folder on this server').fill(shareDir);
    await page.getByLabel('User name').fill('dave');
    await page.getByLabel('Password', { exact: true }).fill('Dave-pass-1');
    await page.getByLabel('Confirm password').fill('Dave-pass-1');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect(page.locator('#wizard-keytab-error')).toContainText('no key of cifs/localhost@EXAMPLE.TEST');
    expect(fresh.cli(['kerberos', 'status'])).not.toContain('EXAMPLE.TEST');
    expect(fresh.cli(['share', 'list'])).not.toContain('sales');

    // The keytab of the name clients use: applied, and the summary tells clients where the proxy is.
    await page.getByLabel('Keytab of the names clients use').setInputFiles(ktutilKeytab(work, 'cifs/localhost@EXAMPLE.TEST', 3));
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Apply' }).click();
    const kerberos = page.getByTestId('wizard-kerberos');
    await expect(kerberos).toContainText('Realm EXAMPLE.TEST; keys of cifs/localhost@EXAMPLE.TEST.');
    await expect(kerberos).toContainText(`The KDC proxy listens on TCP 127.0.0.1:${proxyPort}`);
    await expect(kerberos).toContainText(`EXAMPLE.TEST = <https localhost:${proxyPort}:kdcproxy />`);
    await expect(kerberos).toContainText(`kdc = https://localhost:${proxyPort}/KdcProxy`);
    await screenshot(page, 'wizard-kerberos-summary');

    // The health report agrees: the name is covered, the KDC answers with the same time, the proxy listens.
    await page.goto(`${fresh.url}/health`);
    await hydrated(page);
    await expect(page.locator('tr[data-check="Service key"]', { hasText: 'localhost' })).toHaveAttribute('data-level', 'good');
    await expect(page.locator('tr[data-check="KDCs reachable"]')).toHaveAttribute('data-level', 'good');
    await expect(page.locator('tr[data-check="Clock"]')).toHaveAttribute('data-level', 'good');
    await expect(page.locator('tr[data-check="Listening"]', { hasText: 'KDC proxy' })).toHaveAttribute('data-level', 'good');
    await page.goto(`${fresh.url}/audit`);
    for (const action of ['quic.setup', 'kerberos.realm', 'kerberos.keytab']) {
      await expect(page.locator(`tr[data-action="${action}"]`).first()).toContainText('admin');
    }
  } finally {
    kdc.stop();
    await fresh.stop();
  }
});

test('a reader is told the wizard is for administrators and cannot apply a setup', async ({ page }) => {
  server.cli(['admin', 'add', 'auditor', '--role', 'reader', '--password-stdin'], 'auditor password 1\n');
  await signIn(page, server.url, 'auditor', 'auditor password 1');
  await page.goto(`${server.url}/welcome`);
  await hydrated(page);
  await expect(page.getByText('Only administrators can run the setup wizard.')).toBeVisible();
  await expect(page.getByRole('button', { name: /Generate|Next|Apply/ })).toHaveCount(0);
  const response = await page.request.post(`${server.url}/api/apply_setup`, {
    form: { 'request[thumbprint]': 'x', 'request[names]': 'localhost', 'request[address]': '::', 'request[port]': '443',
      'request[share]': 's', 'request[path]': '/tmp', 'request[user]': 'u', 'request[password]': 'p', 'request[confirm]': 'p' },
    headers: { Origin: server.url },
  });
  expect(response.status()).toBe(403);
});
