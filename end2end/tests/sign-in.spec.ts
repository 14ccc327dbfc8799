import { expect, test } from '@playwright/test';
import { EdgeShare } from '../support/server';
import { hydrated, screenshot, signIn } from '../support/console';

let server: EdgeShare;
const password = 'a long admin password';
test.beforeAll(async () => {
  server = await EdgeShare.start();
  server.cli(['admin', 'add', 'operator', '--role', 'admin', '--password-stdin'], `${password}\n`);
});
test.afterAll(async () => { await server.stop(); });

test('a wrong password is refused with a message next to the password field', async ({ page }) => {
  await page.goto(`${server.url}/login`);
  await hydrated(page);
  await page.getByLabel('Account name').fill('operator');
  await page.getByLabel('Password', { exact: true }).fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('#login-password-error')).toHaveText('The account name or password is wrong.');
  await expect(page).toHaveURL(/\/login$/);
  await screenshot(page, 'login-wrong-password');
});

test('signing in opens the page asked for, and signing out ends the session', async ({ page }) => {
  await page.goto(`${server.url}/audit`);
  await expect(page).toHaveURL(`${server.url}/login?next=/audit`);
  await hydrated(page);
  await page.getByLabel('Account name').fill('operator');
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(`${server.url}/audit`);
  await expect(page.getByTestId('viewer-name')).toHaveText('operator');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(`${server.url}/login`);
  await page.goto(`${server.url}/`);
  await expect(page).toHaveURL(`${server.url}/login`);
});

test('the session cookie is secure, HttpOnly and SameSite=Strict', async ({ page, context }) => {
  await signIn(page, server.url, 'operator', password);
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === '__Host-edgeshare_session');
  expect(session).toBeDefined();
  expect(session!.secure).toBe(true);
  expect(session!.httpOnly).toBe(true);
  expect(session!.sameSite).toBe('Strict');
});

test('sign-ins and failures are in the audit log, newest first', async ({ page }) => {
  await signIn(page, server.url, 'operator', password);
  await page.goto(`${server.url}/audit?action=console.sign_in`);
  const rows = page.locator('table.events tbody tr');
  await expect(rows.first()).toContainText('Succeeded');
  await expect(page.locator('tr.failure').first()).toContainText('wrong account name or password');
  await screenshot(page, 'audit');
});

test('repeated failures are throttled', async ({ page }) => {
  server.cli(['admin', 'add', 'victim', '--role', 'reader', '--password-stdin'], 'victim password 1\n');
  await page.goto(`${server.url}/login`);
  await hydrated(page);
  await page.getByLabel('Account name').fill('victim');
  for (let attempt = 0; attempt < 5; attempt++) {
    await page.getByLabel('Password', { exact: true }).fill(`guess number ${attempt}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.locator('#login-password-error')).toHaveText('The account name or password is wrong.');
    await page.getByLabel('Password', { exact: true }).fill('');
  }
  // Even the right password is refused while the account is throttled.
  await page.getByLabel('Password', { exact: true }).fill('victim password 1');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('.form-error')).toContainText('Too many failed attempts');
});
