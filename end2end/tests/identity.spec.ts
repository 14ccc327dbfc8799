import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { EdgeShare, freePort } from '../support/server';
import { hydrated, screenshot, signIn } from '../support/console';
import { MitKdc, ktutilKeytab } from '../support/kdc';
import { TestCa } from '../support/pki';

let server: EdgeShare;
let work: string;
let kdc: MitKdc;
let kdcPort: number;
let ca: TestCa;
test.beforeAll(async () => {
  ca = TestCa.create();
  server = await EdgeShare.start();
  server.cli(['admin', 'add', 'boss', '--role', 'admin', '--password-stdin'], 'boss password 123\n');
  server.cli(['admin', 'add', 'auditor', '--role', 'reader', '--password-stdin'], 'auditor password 1\n');
  work = mkdtempSync(path.join(os.tmpdir(), 'edgeshare-e2e-identity-'));
  // The realm's KDC: MIT's, which answers the console's check with its clock.
  kdc = await MitKdc.start('EXAMPLE.TEST');
  kdcPort = kdc.port;
});
test.afterAll(async () => {
  await server.stop();
  kdc.stop();
  rmSync(work, { recursive: true, force: true });
  ca.remove();
});

/** A keytab written by MIT's ktutil for `principal`. */
function keytab(principal: string, kvno: number): string {
  return ktutilKeytab(work, principal, kvno);
}

/** POSTs `body` to the KDC proxy at 127.0.0.1:`port` with TLS to `name`; resolves with the status. */
function proxyPost(port: number, name: string, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      {
        host: '127.0.0.1',
        port,
        servername: name,
        path: '/KdcProxy',
        method: 'POST',
        rejectUnauthorized: false,
        headers: { 'content-type': 'application/kerberos', 'content-length': body.length },
        timeout: 5_000,
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.on('error', reject);
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.end(body);
  });
}

test('an administrator adds a realm, tests its KDCs, imports a keytab, turns the KDC proxy on and refuses NTLM', async ({ page }) => {
  test.setTimeout(120_000);
  await signIn(page, server.url, 'boss', 'boss password 123');
  await page.goto(`${server.url}/identity`);
  await hydrated(page);
  const status = page.getByTestId('identity-state');
  await expect(status).toContainText('Off: no service keys');
  await expect(page.getByTestId('client-setup')).toContainText('Add a realm');

  // A realm name that is not one is refused next to its field, and nothing is stored.
  await page.getByLabel('Realm', { exact: true }).fill('example test');
  await page.getByLabel('KDCs').fill(`127.0.0.1:${kdcPort}`);
  await page.getByRole('button', { name: 'Save realm' }).click();
  await expect(page.locator('#realm-realm-error')).not.toBeEmpty();
  await expect(page.locator('table.realms tbody tr', { hasText: 'example' })).toHaveCount(0);

  // The realm with one KDC that answers and one that does not; the command line is shown as typed.
  const closed = await freePort();
  await page.getByLabel('Realm', { exact: true }).fill('EXAMPLE.TEST');
  await page.getByLabel('KDCs').fill(`127.0.0.1:${kdcPort}, 127.0.0.1:${closed}`);
  await expect(page.getByText(`edgeshare kerberos realm add EXAMPLE.TEST --kdc 127.0.0.1:${kdcPort}`)).toBeVisible();
  await page.getByRole('button', { name: 'Save realm' }).click();
  const realm = page.locator('table.realms tbody tr', { hasText: 'EXAMPLE.TEST' });
  await expect(realm).toContainText(`127.0.0.1:${closed}`);
  await realm.getByRole('button', { name: 'Test KDCs' }).click();
  const checks = page.getByTestId('kdc-checks');
  const live = checks.locator('li', { hasText: `127.0.0.1:${kdcPort}` });
  await expect(live.locator('.badge')).toHaveClass(/good/);
  await expect(live).toContainText('its clock agrees with ours');
  await expect(checks.locator('li', { hasText: `127.0.0.1:${closed}` }).locator('.badge')).toHaveClass(/bad/);

  // A file that is not a keytab is named as such; nothing is imported.
  const junk = path.join(work, 'junk.keytab');
  writeFileSync(junk, 'not a keytab at all');
  await page.locator('#keytab-file').setInputFiles(junk);
  await page.getByRole('button', { name: 'Import keytab' }).click();
  await expect(page.locator('#keytab-file-error')).toContainText('keytab');
  await expect(page.locator('table.keys tbody tr', { hasText: 'cifs/' })).toHaveCount(0);

  // The keytab of the console's own name: both enctypes listed, the name covered.
  await page.locator('#keytab-file').setInputFiles(keytab('cifs/e2e.edgeshare.test@EXAMPLE.TEST', 2));
  await page.getByRole('button', { name: 'Import keytab' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Imported 2 key(s) (2 new, 0 replaced)' })).toBeVisible();
  const keys = page.locator('table.keys tbody tr', { hasText: 'cifs/e2e.edgeshare.test@EXAMPLE.TEST' });
  await expect(keys).toHaveCount(2);
  await expect(keys.filter({ hasText: 'aes256-cts-hmac-sha1-96' })).toContainText('kvno2.keytab');
  await expect(status).toContainText('Offered');
  await expect(page.locator('table.coverage tr', { hasText: 'e2e.edgeshare.test' })).toContainText(
    'cifs/e2e.edgeshare.test@EXAMPLE.TEST',
  );

  // The KDC proxy on a free loopback port, and the client settings that name it.
  const proxyPort = await freePort();
  const proxy = page.getByTestId('kdc-proxy');
  await proxy.getByLabel('Listen on address').fill('127.0.0.1');
  await proxy.getByLabel('TCP port').fill(String(proxyPort));
  await proxy.getByRole('button', { name: 'Turn on' }).click();
  await expect(proxy).toContainText(`Listening on TCP 127.0.0.1:${proxyPort}`);
  // Without an SMB over QUIC mapping it has no certificate, and says so.
  await expect(proxy).toContainText('None: map a name on the SMB over QUIC page');
  // The server's public name gets a certificate from a CA, for SMB over QUIC and the proxy alike.
  const issued = ca.issue('fs', 'e2e.edgeshare.test', 60 * 86_400);
  server.cli(['cert', 'import', '--pem', issued.chain, '--key', issued.key]);
  const thumbprint = server.cli(['cert', 'list']).split('\n').find((l) => l.includes('e2e.edgeshare.test'))!.split(/\s+/)[0];
  server.cli(['quic', 'map', '--name', 'e2e.edgeshare.test', '--thumbprint', thumbprint]);
  server.cli(['quic', 'enable', '--port', String(await freePort()), '--address', '127.0.0.1']);
  await page.reload();
  await hydrated(page);
  await expect(proxy).toContainText('TLS for e2e.edgeshare.test');
  const clients = page.getByTestId('client-setup');
  await expect(clients).toContainText(`<https e2e.edgeshare.test:${proxyPort}:kdcproxy />`);
  await expect(clients).toContainText(`kdc = https://e2e.edgeshare.test:${proxyPort}/KdcProxy`);
  // It answers as a KDC proxy: a body that is no KDC-PROXY-MESSAGE is a 400.
  // The mapping came from the command line, which the server applies within a second.
  await expect
    .poll(() => proxyPost(proxyPort, 'e2e.edgeshare.test', Buffer.from('no kerberos here')).catch((e) => String(e)), {
      timeout: 5_000,
    })
    .toBe(400);

  // NTLM refused, now that Kerberos can sign in.
  await page.getByLabel('NTLM sign-in').selectOption('refuse');
  await page.locator('section', { hasText: 'Restrict NTLM' }).getByRole('button', { name: 'Save' }).click();
  await expect(status).toContainText('Refused: only Kerberos signs in');
  await screenshot(page, 'identity');

  // No key material reaches the browser: the page's data names keys, never their bytes.
  const html = await page.content();
  expect(html).not.toMatch(/"key(_bytes|_value)?"\s*:/);

  // The health report: NTLM refused with keys is fine, the name is covered, one KDC of two answers.
  await page.goto(`${server.url}/health`);
  await hydrated(page);
  await expect(page.locator('tr[data-check="Policy"]')).toHaveAttribute('data-level', 'good');
  await expect(page.locator('tr[data-check="Service key"]', { hasText: 'e2e.edgeshare.test' })).toHaveAttribute(
    'data-level',
    'good',
  );
  const reachable = page.locator('tr[data-check="KDCs reachable"]', { hasText: 'EXAMPLE.TEST' });
  await expect(reachable).toHaveAttribute('data-level', 'warning');
  await expect(reachable).toContainText('1 of 2 KDCs answer');
  await expect(page.locator('tr[data-check="Clock"]', { hasText: 'EXAMPLE.TEST' })).toHaveAttribute('data-level', 'good');

  // The KDC that never answers goes from the realm: the whole report turns green.
  await page.goto(`${server.url}/identity`);
  await hydrated(page);
  await page.getByLabel('Realm', { exact: true }).fill('EXAMPLE.TEST');
  await page.getByLabel('KDCs').fill(`127.0.0.1:${kdcPort}`);
  await page.getByRole('button', { name: 'Save realm' }).click();
  await expect(realm).not.toContainText(`127.0.0.1:${closed}`);
  await page.goto(`${server.url}/health`);
  await hydrated(page);
  await expect(page.getByTestId('health-status').locator('h2 .badge')).toHaveAttribute('data-level', 'good');
  await expect(page.locator('tr[data-level="critical"], tr[data-level="warning"]')).toHaveCount(0);
  await expect(page.locator('tr[data-check="Certificate"]', { hasText: 'KDC proxy' })).toContainText(
    'TLS for e2e.edgeshare.test',
  );
  await screenshot(page, 'identity-health');

  // The last keys cannot go while NTLM is refused: nobody could sign in. Allowed again, they can.
  await page.goto(`${server.url}/identity`);
  await hydrated(page);
  const removeVersion2 = page.locator('table.keys tbody tr', { hasText: 'aes256' }).getByRole('button', {
    name: 'Remove version 2',
  });
  await removeVersion2.click();
  await expect(page.getByRole('alert').filter({ hasText: 'these are the last Kerberos keys' })).toBeVisible();
  await expect(page.locator('table.keys tbody tr', { hasText: 'cifs/' })).toHaveCount(2);
  await page.getByLabel('NTLM sign-in').selectOption('allow');
  await page.locator('section', { hasText: 'Restrict NTLM' }).getByRole('button', { name: 'Save' }).click();
  await expect(status).toContainText('Allowed');
  await removeVersion2.click();
  await expect(page.locator('table.keys tbody tr', { hasText: 'cifs/' })).toHaveCount(0);
  await expect(status).toContainText('Off: no service keys');

  // Every change is in the audit log.
  await page.goto(`${server.url}/audit`);
  await hydrated(page);
  await expect(page.locator('tr[data-action="kerberos.realm"]').first()).toContainText('EXAMPLE.TEST');
  await expect(page.locator('tr[data-action="kerberos.keytab"]').first()).toBeVisible();
});

test('a reader sees the identity settings but cannot change them', async ({ page }) => {
  server.cli(['kerberos', 'realm', 'add', 'READER.TEST', '--kdc', `127.0.0.1:${kdcPort}`]);
  await signIn(page, server.url, 'auditor', 'auditor password 1');
  await page.goto(`${server.url}/identity`);
  await hydrated(page);
  await expect(page.locator('table.realms tbody tr', { hasText: 'READER.TEST' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Test KDCs' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Save realm' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Import keytab' })).toHaveCount(0);
  await expect(page.getByTestId('kdc-proxy').getByRole('button')).toHaveCount(0);
});
