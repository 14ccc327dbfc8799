import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, Page, test } from '@playwright/test';
import { EdgeShare, freePort } from '../support/server';
import { hydrated, screenshot, signIn } from '../support/console';

let server: EdgeShare;
let pki: string;
test.beforeAll(async () => {
  server = await EdgeShare.start();
  server.cli(['admin', 'add', 'boss', '--role', 'admin', '--password-stdin'], 'boss password 123\n');
  pki = mkdtempSync(path.join(os.tmpdir(), 'edgeshare-e2e-pki-'));
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key',
    '-out', 'ca.pem', '-days', '30', '-subj', '/CN=E2E Issuing CA', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  writeFileSync(path.join(pki, 'index.txt'), '');
  writeFileSync(path.join(pki, 'serial'), '1000\n');
  writeFileSync(path.join(pki, 'ca.cnf'), [
    '[ca]', 'default_ca = edge', '[edge]', `dir = ${pki}`, `database = ${pki}/index.txt`, `new_certs_dir = ${pki}`,
    `serial = ${pki}/serial`, 'default_md = sha256', 'policy = any', 'unique_subject = no', '[any]',
    'commonName = supplied', ''].join('\n'));
  writeFileSync(path.join(pki, 'server.ext'), ['basicConstraints = CA:FALSE', 'keyUsage = critical,digitalSignature',
    'extendedKeyUsage = serverAuth', 'subjectAltName = DNS:localhost', ''].join('\n'));
});
test.afterAll(async () => {
  await server.stop();
  rmSync(pki, { recursive: true, force: true });
});

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: pki, stdio: 'pipe' });
}

/** openssl's GeneralizedTime for `seconds` from now. */
function when(seconds: number): string {
  return new Date(Date.now() + seconds * 1000).toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** A server certificate for localhost from the test CA, valid from an hour ago for `seconds`. */
function issue(name: string, seconds: number): { chain: string; key: string } {
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`,
    '-out', `${name}.csr`, '-subj', '/CN=localhost']);
  openssl(['ca', '-batch', '-config', 'ca.cnf', '-in', `${name}.csr`, '-out', `${name}.pem`, '-notext', '-cert', 'ca.pem',
    '-keyfile', 'ca.key', '-extfile', 'server.ext', '-startdate', when(-3600), '-enddate', when(seconds)]);
  return { chain: path.join(pki, `${name}.pem`), key: path.join(pki, `${name}.key`) };
}

async function checkAgainUntil(page: Page, level: string): Promise<void> {
  await expect(async () => {
    await page.getByRole('button', { name: 'Check again' }).click();
    await expect(page.getByTestId('health-status').locator('h2 .badge')).toHaveAttribute('data-level', level, {
      timeout: 1_000,
    });
  }).toPass({ timeout: 45_000, intervals: [1_000] });
}

test('the health report turns red when the mapped certificate expires and green once a renewal is imported', async ({ page }) => {
  test.setTimeout(150_000);
  const soon = issue('expiring', 25);
  server.cli(['cert', 'import', '--pem', soon.chain, '--key', soon.key]);
  const thumbprint = server.cli(['cert', 'list']).split('\n').find((l) => l.includes('localhost'))!.split(/\s+/)[0];
  server.cli(['quic', 'map', '--name', 'localhost', '--thumbprint', thumbprint]);
  server.cli(['quic', 'enable', '--port', String(await freePort()), '--address', '127.0.0.1']);

  await signIn(page, server.url, 'boss', 'boss password 123');
  await page.goto(`${server.url}/health`);
  await hydrated(page);
  // Listening, and the certificate about to expire is only a warning.
  await checkAgainUntil(page, 'warning');
  await expect(page.locator('tr[data-check="Listener"]')).toHaveAttribute('data-level', 'good');
  await expect(page.locator('tr[data-check="Validity"]')).toHaveAttribute('data-level', 'warning');

  await checkAgainUntil(page, 'critical');
  const validity = page.locator('tr[data-check="Validity"]');
  await expect(validity).toHaveAttribute('data-level', 'critical');
  await expect(validity).toContainText('expired');
  await expect(validity).toContainText('Renew the certificate');
  await screenshot(page, 'health-critical');
  await page.goto(`${server.url}/`);
  await expect(page.getByTestId('dashboard-health')).toContainText('Critical');
  await expect(page.getByTestId('dashboard-health')).toContainText('expired');

  const renewal = issue('renewal', 60 * 86_400);
  server.cli(['cert', 'import', '--pem', renewal.chain, '--key', renewal.key]);
  await page.goto(`${server.url}/health`);
  await hydrated(page);
  await checkAgainUntil(page, 'good');
  await expect(page.locator('tr[data-level="critical"], tr[data-level="warning"]')).toHaveCount(0);
  await expect(page.locator('tr[data-check="Validity"]')).toContainText('days left');
  await screenshot(page, 'health-good');

  // The same report for monitoring.
  const report = await (await page.request.get(`${server.url}/api/health`)).json();
  expect(report.status).toBe('good');

  await page.goto(`${server.url}/audit`);
  const renewed = page.locator('tr[data-action="quic.mapping.renew"]');
  await expect(renewed).toContainText('localhost');
  await expect(renewed).toContainText('moved to a renewed certificate');
});

test('the health page lists the resource budget with each value, its default and a change made on the command line', async ({ page }) => {
  await signIn(page, server.url, 'boss', 'boss password 123');
  await page.goto(`${server.url}/health`);
  await hydrated(page);
  const offences = page.locator('tr[data-setting="limit_offences_per_minute"]');
  await expect(offences.locator('td').nth(1)).toHaveText('20');
  await expect(offences.locator('td').nth(2)).toHaveText('20');
  await expect(page.locator('table.budget tbody tr')).toHaveCount(16);

  server.cli(['settings', 'set', 'limit_connections_per_client', '300']);
  await page.getByRole('button', { name: 'Check again' }).click();
  const perClient = page.locator('tr[data-setting="limit_connections_per_client"]');
  await expect(perClient.locator('td').nth(1)).toHaveText('300 changed');
  await expect(perClient.locator('td').nth(2)).toHaveText('256');
  server.cli(['settings', 'set', 'limit_connections_per_client', '256']);
  await screenshot(page, 'health-budget');
});
