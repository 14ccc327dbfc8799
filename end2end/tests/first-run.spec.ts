import { expect, test } from '@playwright/test';
import { EdgeShare } from '../support/server';
import { hydrated, screenshot } from '../support/console';

let server: EdgeShare;
test.beforeAll(async () => { server = await EdgeShare.start(); });
test.afterAll(async () => { await server.stop(); });

test('a fresh server sends every page to the first-administrator setup', async ({ page }) => {
  for (const path of ['/', '/audit', '/login']) {
    await page.goto(`${server.url}${path}`);
    await expect(page).toHaveURL(`${server.url}/setup`);
  }
  await expect(page.getByRole('heading', { name: 'Welcome to EdgeShare' })).toBeVisible();
  await screenshot(page, 'setup');
});

test('setup refuses a short password and mismatched confirmation next to the fields', async ({ page }) => {
  await page.goto(`${server.url}/setup`);
  await hydrated(page);
  await page.getByLabel('Account name').fill('admin');
  await page.getByLabel('Password', { exact: true }).fill('short');
  await page.getByLabel('Confirm password').fill('short');
  await page.getByRole('button', { name: 'Create administrator' }).click();
  await expect(page.locator('#setup-password-error')).toHaveText('Use at least 10 characters.');
  await expect(page.getByLabel('Password', { exact: true })).toHaveAttribute('aria-invalid', 'true');

  await page.getByLabel('Password', { exact: true }).fill('correct horse battery');
  await page.getByLabel('Confirm password').fill('correct horse batteyr');
  await page.getByRole('button', { name: 'Create administrator' }).click();
  await expect(page.locator('#setup-confirm-error')).toHaveText('The two passwords differ.');
  await expect(page.locator('#setup-password-error')).toBeEmpty();

  await page.getByLabel('Account name').fill('bad name!');
  await page.getByLabel('Confirm password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Create administrator' }).click();
  await expect(page.locator('#setup-name-error')).toContainText('is not allowed');
});

test('creating the first administrator signs in and offers the setup wizard', async ({ page }) => {
  await page.goto(`${server.url}/setup`);
  await hydrated(page);
  await page.getByLabel('Account name').fill('admin');
  await page.getByLabel('Password', { exact: true }).fill('correct horse battery');
  await page.getByLabel('Confirm password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Create administrator' }).click();
  // The setup wizard is offered at once, and from the dashboard while SMB over QUIC is off.
  await expect(page).toHaveURL(`${server.url}/welcome`);
  await expect(page.getByRole('heading', { name: 'Set up SMB over QUIC' })).toBeVisible();
  await page.goto(`${server.url}/`);
  await expect(page.getByRole('link', { name: 'Set up SMB over QUIC' })).toBeVisible();
  await expect(page.getByTestId('viewer-name')).toHaveText('admin');
  await expect(page.locator('.server-name')).toHaveText('e2e.edgeshare.test');
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  await expect(page.getByRole('cell', { name: 'Console account created' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Activity', exact: true })).toBeVisible();
  await screenshot(page, 'dashboard');
});

test('once an administrator exists, setup is closed', async ({ page, request }) => {
  await page.goto(`${server.url}/setup`);
  await expect(page).not.toHaveURL(/\/setup$/);
  const response = await request.post(`${server.url}/api/create_first_admin`, {
    form: { name: 'intruder', password: 'another long password', confirm: 'another long password' },
  });
  expect(response.status()).toBe(409);
  expect(server.cli(['admin', 'list'])).not.toContain('intruder');
});

test('unknown addresses get a 404 page', async ({ page }) => {
  const response = await page.goto(`${server.url}/no/such/page`);
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
});
