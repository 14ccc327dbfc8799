import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, Page, test } from '@playwright/test';
import { EdgeShare, freePort } from '../support/server';
import { hydrated, screenshot, signIn } from '../support/console';

let server: EdgeShare;
let work: string;
test.beforeAll(async () => {
  server = await EdgeShare.start();
  server.cli(['admin', 'add', 'boss', '--role', 'admin', '--password-stdin'], 'boss password 123\n');
  server.cli(['admin', 'add', 'auditor', '--role', 'reader', '--password-stdin'], 'auditor password 1\n');
  server.cli(['cert', 'generate', '--dns', 'localhost']);
  work = mkdtempSync(path.join(os.tmpdir(), 'edgeshare-e2e-quic-'));
  // A client CA and a client certificate it issued.
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: work, stdio: 'pipe' });
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out',
    'ca.pem', '-days', '30', '-subj', '/CN=E2E Client CA', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign']);
  run(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'client.key',
    '-out', 'client.csr', '-subj', '/CN=laptop-7']);
  run(['x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out',
    'client.pem', '-days', '30']);
});
test.afterAll(async () => {
  await server.stop();
  rmSync(work, { recursive: true, force: true });
});

async function reloadUntil(page: Page, text: string): Promise<void> {
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId('quic-state')).toContainText(text, { timeout: 1_000 });
  }).toPass({ timeout: 20_000, intervals: [500] });
  // The reloaded page's forms work once it has hydrated (before, a click submits the bare form).
  await hydrated(page);
}

test('an administrator turns SMB over QUIC on, maps a name and controls client access', async ({ page }) => {
  await signIn(page, server.url, 'boss', 'boss password 123');
  await page.goto(`${server.url}/quic`);
  await hydrated(page);
  await expect(page.getByTestId('quic-state')).toContainText('Off');

  // A port another program holds is refused next to the field.
  const holder = dgram.createSocket('udp4');
  const taken = await new Promise<number>((resolve) => holder.bind(0, '127.0.0.1', () => resolve(holder.address().port)));
  try {
    await page.getByLabel('Listen on address').fill('127.0.0.1');
    await page.getByLabel('UDP port').fill(String(taken));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await expect(page.locator('#listener-port-error')).toContainText('cannot be used');
  } finally {
    holder.close();
  }
  const port = await freePort();
  await page.getByLabel('UDP port').fill(String(port));
  await page.getByRole('button', { name: 'Turn on' }).click();
  await reloadUntil(page, `Listening on UDP 127.0.0.1:${port}`);

  // A name the certificate does not carry is refused; localhost is mapped with client authentication.
  await page.locator('#map-name').fill('files.elsewhere.test');
  await page.getByRole('button', { name: 'Map name' }).click();
  await expect(page.locator('#map-name-error')).toContainText("not among the certificate's names");
  await page.locator('#map-name').fill('localhost');
  await page.getByLabel('Require client authentication (client certificates)').check();
  await page.getByRole('button', { name: 'Map name' }).click();
  await expect(page.locator('tr[data-name="localhost"]')).toContainText('Required, lists checked');

  // Nobody can connect yet: the health report says so.
  await page.goto(`${server.url}/health`);
  const clientAccess = page.locator('tr[data-check="Client certificates"]');
  await expect(clientAccess).toHaveAttribute('data-level', 'critical');
  await expect(clientAccess).toContainText('nobody can connect');

  // Trust the client CA, preview a client certificate, allow its issuer, preview again.
  server.cli(['cert', 'import', '--pem', path.join(work, 'ca.pem')]);
  await page.goto(`${server.url}/quic`);
  await hydrated(page);
  const clientPem = readFileSync(path.join(work, 'client.pem'), 'utf8');
  await page.getByLabel('Client certificate (PEM, with its CA chain if you have it)').fill(clientPem);
  await page.getByRole('button', { name: 'Check' }).click();
  await expect(page.getByTestId('access-preview')).toContainText('Refused');
  await expect(page.getByTestId('access-preview')).toContainText('no allow entry matches');

  await page.getByLabel('Issuer').fill('CN=E2E Client CA');
  await page.getByRole('button', { name: 'Add entry' }).click();
  await expect(page.locator('table.access')).toContainText('CN=E2E Client CA');
  await page.getByLabel('Client certificate (PEM, with its CA chain if you have it)').fill(clientPem);
  await page.getByRole('button', { name: 'Check' }).click();
  await expect(page.getByTestId('access-preview')).toContainText('Allowed');
  await expect(page.getByTestId('access-preview')).toContainText("allow entry issuer 'CN=E2E Client CA'");
  await screenshot(page, 'quic');

  await page.goto(`${server.url}/health`);
  await expect(page.locator('tr[data-check="Client certificates"]')).toHaveAttribute('data-level', 'good');

  await page.goto(`${server.url}/quic`);
  await hydrated(page);
  await page.getByRole('button', { name: 'Turn off' }).click();
  await reloadUntil(page, 'Off');

  await page.goto(`${server.url}/audit`);
  for (const action of ['quic.enable', 'quic.mapping.set', 'quic.access.grant', 'quic.disable']) {
    await expect(page.locator(`tr[data-action="${action}"]`).first()).toContainText('boss');
  }
});

test('a reader sees SMB over QUIC but cannot change it', async ({ page }) => {
  await signIn(page, server.url, 'auditor', 'auditor password 1');
  await page.goto(`${server.url}/quic`);
  await expect(page.getByTestId('quic-state')).toBeVisible();
  await expect(page.getByRole('button', { name: /Turn on|Turn off|Map name|Add entry/ })).toHaveCount(0);
  const response = await page.request.post(`${server.url}/api/set_quic`, {
    form: { enabled: 'true', address: '127.0.0.1', port: '4443' },
    headers: { Origin: server.url },
  });
  expect(response.status()).toBe(403);
});
