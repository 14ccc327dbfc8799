import { expect, test } from '@playwright/test';
import { EdgeShare } from '../support/server';
import { hydrated, screenshot, signIn } from '../support/console';

let server: EdgeShare;
test.beforeAll(async () => {
  server = await EdgeShare.start();
  server.cli(['admin', 'add', 'boss', '--role', 'admin', '--password-stdin'], 'boss password 123\n');
  server.cli(['admin', 'add', 'auditor', '--role', 'reader', '--password-stdin'], 'auditor password 1\n');
});
test.afterAll(async () => { await server.stop(); });

test('a reader sees the accounts but no way to change them', async ({ page }) => {
  await signIn(page, server.url, 'auditor', 'auditor password 1');
  await page.goto(`${server.url}/accounts`);
  await hydrated(page);
  await expect(page.getByRole('cell', { name: 'boss' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Add an account' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: /Make|Remove/ })).toHaveCount(0);
  await screenshot(page, 'accounts-reader');
});

test('the server refuses a reader\'s change even when the page is bypassed', async ({ page }) => {
  await signIn(page, server.url, 'auditor', 'auditor password 1');
  const response = await page.request.post(`${server.url}/api/create_account`, {
    form: { name: 'sneaky', role: 'admin', password: 'sneaky password', confirm: 'sneaky password' },
    headers: { Origin: server.url },
  });
  expect(response.status()).toBe(403);
  expect(await response.json()).toEqual({ Forbidden: { role: 'reader' } });
  expect(server.cli(['admin', 'list'])).not.toContain('sneaky');
});

test('a request from another site is refused', async ({ page }) => {
  await signIn(page, server.url, 'boss', 'boss password 123');
  const response = await page.request.post(`${server.url}/api/create_account`, {
    form: { name: 'csrf', role: 'admin', password: 'csrf password 1', confirm: 'csrf password 1' },
    headers: { Origin: 'https://attacker.example' },
  });
  expect(response.status()).toBe(403);
  expect(server.cli(['admin', 'list'])).not.toContain('csrf');
});

test('an administrator adds, promotes and removes an account, and the audit log shows it', async ({ page }) => {
  await signIn(page, server.url, 'boss', 'boss password 123');
  await page.goto(`${server.url}/accounts`);
  await hydrated(page);
  const form = page.locator('section', { has: page.getByRole('heading', { name: 'Add an account' }) });
  await form.getByLabel('Account name').fill('boss');
  await form.getByLabel('Password', { exact: true }).fill('another password');
  await form.getByLabel('Confirm password').fill('another password');
  await form.getByRole('button', { name: 'Add account' }).click();
  await expect(form.locator('#create-name-error')).toHaveText("An account named 'boss' already exists.");

  await form.getByLabel('Account name').fill('helper');
  await form.getByLabel('Role').selectOption('reader');
  await form.getByRole('button', { name: 'Add account' }).click();
  const row = page.locator('tr[data-account="helper"]');
  await expect(row).toContainText('Reader');

  await row.getByRole('button', { name: 'Make administrator' }).click();
  await expect(row).toContainText('Administrator');

  await row.getByText('Remove…').click();
  await row.getByRole('button', { name: 'Remove account' }).click();
  await expect(row).toHaveCount(0);

  await page.goto(`${server.url}/audit?action=account.`);
  const events = page.locator('table.events tbody tr');
  await expect(events.nth(0)).toContainText('Console account removed');
  await expect(events.nth(1)).toContainText('Console account role changed');
  await expect(events.nth(2)).toContainText('Console account created');
  await expect(events.nth(0)).toContainText('boss');
});

test('the last administrator cannot be removed', async ({ page }) => {
  server.cli(['admin', 'add', 'second', '--role', 'admin', '--password-stdin'], 'second admin pw\n');
  await signIn(page, server.url, 'second', 'second admin pw');
  await page.goto(`${server.url}/accounts`);
  await hydrated(page);
  const boss = page.locator('tr[data-account="boss"]');
  await boss.getByText('Remove…').click();
  await boss.getByRole('button', { name: 'Remove account' }).click();
  await expect(boss).toHaveCount(0);
  // 'second' is now the only administrator, and cannot remove itself either.
  const result = await page.request.post(`${server.url}/api/remove_account`, { form: { name: 'second' }, headers: { Origin: server.url } });
  expect(result.status()).toBe(409);
});
