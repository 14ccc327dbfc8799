import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, Page, test } from '@playwright/test';
import { EdgeShare } from '../support/server';
import { hydrated, screenshot, signIn } from '../support/console';

// Each test builds on the one before: after a failure, the rest are skipped rather than run on
// a fresh server.
test.describe.configure({ mode: 'serial' });

let server: EdgeShare;
let shareDir: string;
test.beforeAll(async () => {
  server = await EdgeShare.start({ smbTcp: true });
  server.cli(['admin', 'add', 'boss', '--role', 'admin', '--password-stdin'], 'boss password 123\n');
  server.cli(['admin', 'add', 'auditor', '--role', 'reader', '--password-stdin'], 'auditor password 1\n');
  shareDir = mkdtempSync(path.join(os.tmpdir(), 'edgeshare-e2e-team-'));
  writeFileSync(path.join(shareDir, 'notes.txt'), 'notes\n');
  server.cli(['share', 'add', 'team', shareDir, '--change', 'Everyone']);
});
test.afterAll(async () => {
  await server.stop();
  rmSync(shareDir, { recursive: true, force: true });
});

async function openUsers(page: Page, name = 'boss', password = 'boss password 123'): Promise<void> {
  await signIn(page, server.url, name, password);
  await page.goto(`${server.url}/users`);
  await hydrated(page);
}

const card = (page: Page, title: string) =>
  page.locator('section', { has: page.getByRole('heading', { name: title }) });

test('an administrator adds a user, who can then use a share', async ({ page }) => {
  await openUsers(page);
  const form = card(page, 'Add a user');
  await form.getByLabel('User name').fill('erin');
  await form.getByLabel('Password', { exact: true }).fill('short');
  await form.getByLabel('Confirm password').fill('short');
  await form.getByRole('button', { name: 'Add user' }).click();
  await expect(form.locator('#user-password-error')).toHaveText('Use at least 8 characters.');

  await form.getByLabel('Password', { exact: true }).fill('Erin-pass-1');
  await form.getByLabel('Confirm password').fill('Erin-pass-2');
  await form.getByRole('button', { name: 'Add user' }).click();
  await expect(form.locator('#user-confirm-error')).toHaveText('The two passwords differ.');

  await form.getByLabel('User name').fill('Every@one');
  await form.getByLabel('Confirm password').fill('Erin-pass-1');
  await form.getByRole('button', { name: 'Add user' }).click();
  await expect(form.locator('#user-name-error')).toHaveText("'@' is not allowed in a user name.");

  await form.getByLabel('User name').fill('erin');
  await form.getByLabel('Password', { exact: true }).fill('Erin-pass-1');
  await form.getByLabel('Confirm password').fill('Erin-pass-1');
  await form.getByRole('button', { name: 'Add user' }).click();
  const row = page.locator('tr[data-user="erin"]');
  await expect(row).toContainText('Enabled');
  await expect(page.getByRole('status')).toContainText('edgeshare user add erin --password-stdin');
  await expect(form.getByLabel('User name')).toHaveValue('');

  await expect.poll(() => server.smbclient('team', 'erin', 'Erin-pass-1', 'ls').output).toContain('notes.txt');
  await screenshot(page, 'users');
});

test('failed sign-ins lock a user out until an administrator unlocks it', async ({ page }) => {
  await openUsers(page);
  const policy = card(page, 'Lockout policy');
  await policy.getByLabel('Failed sign-ins before lockout').fill('3');
  await policy.getByRole('button', { name: 'Save policy' }).click();
  await expect(page.getByTestId('lockout-summary')).toHaveText(
    '3 failed sign-ins within 10 min lock an account for 10 min.',
  );
  await expect(page.getByRole('status')).toContainText('edgeshare settings set lockout_threshold 3');
  expect(server.cli(['settings', 'list'])).toMatch(/lockout_threshold\s+3 /);
  // The engine reads the changed policy within a second.
  await page.waitForTimeout(1500);

  let last = { status: 0, output: '' };
  for (let i = 0; i < 5; i++) {
    last = server.smbclient('team', 'erin', 'wrong password', 'ls');
    expect(last.status).not.toBe(0);
  }
  expect(last.output).toContain('NT_STATUS_ACCOUNT_LOCKED_OUT');
  // Locked out: even the right password is refused.
  expect(server.smbclient('team', 'erin', 'Erin-pass-1', 'ls').output).toContain('NT_STATUS_ACCOUNT_LOCKED_OUT');

  await page.getByRole('button', { name: 'Refresh' }).click();
  const row = page.locator('tr[data-user="erin"]');
  await expect(row).toContainText('Locked out');
  await screenshot(page, 'users-locked-out');
  await row.getByRole('button', { name: 'Unlock' }).click();
  await expect(row).not.toContainText('Locked out');
  await expect(page.getByRole('status')).toContainText('edgeshare user unlock erin');

  const unlocked = server.smbclient('team', 'erin', 'Erin-pass-1', 'ls');
  expect(unlocked.output).toContain('notes.txt');
  expect(unlocked.status).toBe(0);

  await page.goto(`${server.url}/audit?action=smb.`);
  await expect(page.locator('table.events')).toContainText('SMB user unlocked');
  await expect(page.locator('table.events')).toContainText('SMB account locked out');
});

test('an administrator disables, re-enables, re-keys and removes a user', async ({ page }) => {
  await openUsers(page);
  const row = page.locator('tr[data-user="erin"]');
  await row.getByRole('button', { name: 'Disable' }).click();
  await expect(row).toContainText('Disabled');
  await expect(page.getByRole('status')).toContainText('edgeshare user disable erin');
  await expect.poll(() => server.smbclient('team', 'erin', 'Erin-pass-1', 'ls').status).not.toBe(0);

  await row.getByRole('button', { name: 'Enable' }).click();
  await expect(row).toContainText('Enabled');

  const change = card(page, 'Change a password');
  await change.getByLabel('User', { exact: true }).selectOption('erin');
  await change.getByLabel('New password', { exact: true }).fill('Erin-pass-2');
  await change.getByLabel('Confirm new password').fill('Erin-pass-2');
  await change.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByRole('status')).toContainText('edgeshare user set-password erin --password-stdin');
  await expect.poll(() => server.smbclient('team', 'erin', 'Erin-pass-2', 'ls').output).toContain('notes.txt');

  await row.getByText('Remove…').click();
  await row.getByRole('button', { name: 'Remove user' }).click();
  await expect(row).toHaveCount(0);
  expect(server.cli(['user', 'list'])).not.toContain('erin');
});

test('a reader sees the users and the policy but cannot change them', async ({ page }) => {
  server.cli(['user', 'add', 'frank', '--password-stdin'], 'Frank-pass-1\n');
  await openUsers(page, 'auditor', 'auditor password 1');
  await expect(page.locator('tr[data-user="frank"]')).toContainText('Enabled');
  await expect(card(page, 'Lockout policy')).toContainText('Failed sign-ins before lockout');
  await expect(page.getByRole('heading', { name: 'Add a user' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: /Disable|Unlock|Save policy|Change password/ })).toHaveCount(0);
  await expect(page.getByText('Remove…')).toHaveCount(0);
  await screenshot(page, 'users-reader');

  for (const [endpoint, form] of [
    ['create_smb_user', { name: 'sneaky', password: 'sneaky password', confirm: 'sneaky password' }],
    ['unlock_smb_user', { name: 'frank' }],
    ['set_lockout_policy', { threshold: '0', window_seconds: '600', duration_seconds: '600' }],
  ] as const) {
    const response = await page.request.post(`${server.url}/api/${endpoint}`, {
      form: { ...form },
      headers: { Origin: server.url },
    });
    expect(response.status(), endpoint).toBe(403);
    expect(await response.json()).toEqual({ Forbidden: { role: 'reader' } });
  }
  expect(server.cli(['user', 'list'])).not.toContain('sneaky');
});
