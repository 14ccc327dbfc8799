import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { EdgeShare } from '../support/server';
import { hydrated, screenshot, signIn } from '../support/console';

let server: EdgeShare;
let work: string;
test.beforeAll(async () => {
  server = await EdgeShare.start();
  server.cli(['admin', 'add', 'boss', '--role', 'admin', '--password-stdin'], 'boss password 123\n');
  server.cli(['admin', 'add', 'auditor', '--role', 'reader', '--password-stdin'], 'auditor password 1\n');
  work = mkdtempSync(path.join(os.tmpdir(), 'edgeshare-e2e-certs-'));
});
test.afterAll(async () => {
  await server.stop();
  rmSync(work, { recursive: true, force: true });
});

test('an administrator generates, inspects, exports, imports and deletes certificates', async ({ page }) => {
  await signIn(page, server.url, 'boss', 'boss password 123');
  await page.goto(`${server.url}/certificates`);
  await hydrated(page);
  await expect(page.getByText('The store is empty.')).toBeVisible();

  // A bad name is refused next to its field.
  await page.getByLabel('DNS names clients use').fill('not a name!');
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  await expect(page.locator('#generate-dns-error')).toContainText('not');

  // Issued by a local CA, with the equivalent command shown as it is typed.
  await page.getByLabel('DNS names clients use').fill('fs.e2e.test, files.e2e.test');
  await page.getByLabel('Issue from local CA (optional)').fill('E2E Office CA');
  await expect(page.getByText("edgeshare cert generate --dns fs.e2e.test --dns files.e2e.test --ca 'E2E Office CA'"))
    .toBeVisible();
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Added CN=fs.e2e.test' })).toBeVisible();
  const leaf = page.locator('table.certificates tr', { hasText: 'fs.e2e.test, files.e2e.test' });
  await expect(leaf).toContainText('Warning');
  await expect(page.locator('table.certificates tr', { hasText: 'E2E Office CA' }).first()).toContainText('CA');

  await leaf.getByRole('button', { name: 'Details' }).click();
  const details = page.getByTestId('certificate-details');
  await expect(details.locator('tr[data-check="Validity"]')).toHaveAttribute('data-level', 'good');
  await expect(details.locator('tr[data-check="Trust"]')).toContainText('export it');
  await expect(details).not.toContainText('PRIVATE KEY');
  await screenshot(page, 'certificates');

  // Export the CA clients must trust: a real PEM file of the CA certificate.
  await leaf.getByRole('button', { name: 'Export CA' }).click();
  const download = page.waitForEvent('download');
  await page.getByRole('link', { name: /Save .*-ca\.pem/ }).click();
  const saved = path.join(work, 'ca.pem');
  await (await download).saveAs(saved);
  const subject = execFileSync('openssl', ['x509', '-in', saved, '-noout', '-subject'], { encoding: 'utf8' });
  expect(subject).toContain('E2E Office CA');
  expect(readFileSync(saved, 'utf8')).not.toContain('PRIVATE KEY');

  // A legacy (3DES) PFX made by openssl: a wrong password is named as such, the right one imports.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'pfx.key', '-out', 'pfx.pem',
    '-days', '90', '-subj', '/CN=pfx.e2e.test', '-addext', 'subjectAltName=DNS:pfx.e2e.test',
    '-addext', 'extendedKeyUsage=serverAuth', '-addext', 'keyUsage=digitalSignature,keyEncipherment'], { cwd: work, stdio: 'pipe' });
  execFileSync('openssl', ['pkcs12', '-export', '-legacy', '-in', 'pfx.pem', '-inkey', 'pfx.key', '-out', 'server.pfx',
    '-passout', 'pass:Pfx-secret-1'], { cwd: work, stdio: 'pipe' });
  await page.locator('#pfx-file').setInputFiles(path.join(work, 'server.pfx'));
  await page.getByLabel('Password', { exact: true }).fill('wrong');
  await page.locator('section', { hasText: 'Import PFX' }).getByRole('button', { name: 'Import' }).click();
  await expect(page.locator('#pfx-password-error')).toContainText('does not open');
  await page.getByLabel('Password', { exact: true }).fill('Pfx-secret-1');
  await page.locator('section', { hasText: 'Import PFX' }).getByRole('button', { name: 'Import' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Added CN=pfx.e2e.test' })).toBeVisible();
  const pfx = page.locator('table.certificates tr', { hasText: 'pfx.e2e.test' });
  await expect(pfx).toContainText('RSA 2048');

  // Delete it.
  await pfx.getByText('Delete…').click();
  await pfx.getByRole('button', { name: 'Delete certificate' }).click();
  await expect(page.locator('table.certificates tr', { hasText: 'pfx.e2e.test' })).toHaveCount(0);

  await page.goto(`${server.url}/audit`);
  await expect(page.locator('tr[data-action="cert.generate"]')).toContainText('boss');
  await expect(page.locator('tr[data-action="cert.import"]')).toContainText('pfx.e2e.test');
  await expect(page.locator('tr[data-action="cert.remove"]')).toContainText('boss');
});

test('a reader sees the store but cannot change it', async ({ page }) => {
  await signIn(page, server.url, 'auditor', 'auditor password 1');
  await page.goto(`${server.url}/certificates`);
  await expect(page.locator('table.certificates')).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Generate a certificate' })).toHaveCount(0);
  await expect(page.getByText('Delete…')).toHaveCount(0);
  const response = await page.request.post(`${server.url}/api/generate_certificate`, {
    form: { dns: 'sneaky.e2e.test', ca: '', key: 'ecdsa-p256' },
    headers: { Origin: server.url },
  });
  expect(response.status()).toBe(403);
  expect(server.cli(['cert', 'list'])).not.toContain('sneaky');
});
