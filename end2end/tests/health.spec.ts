import { expect, Page, test } from '@playwright/test';
import { EdgeShare, freePort } from '../support/server';
import { hydrated, screenshot, signIn } from '../support/console';
import { TestCa } from '../support/pki';

let server: EdgeShare;
let ca: TestCa;
test.beforeAll(async () => {
  server = await EdgeShare.start();
  server.cli(['admin', 'add', 'boss', '--role', 'admin', '--password-stdin'], 'boss password 123\n');
  ca = TestCa.create();
});
test.afterAll(async () => {
  await server.stop();
  ca.remove();
});

/** A server certificate for localhost from the test CA, valid from an hour ago for `seconds`. */
function issue(name: string, seconds: number): { chain: string; key: string } {
  return ca.issue(name, 'localhost', seconds);
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
