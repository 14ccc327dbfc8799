import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, Page, test } from '@playwright/test';
import { EdgeShare } from '../support/server';
import { hydrated, screenshot, signIn } from '../support/console';

// Each test builds on the one before: after a failure, the rest are skipped rather than run on
// a fresh server.
test.describe.configure({ mode: 'serial' });

let server: EdgeShare;
let docsDir: string;
let projectsDir: string;
test.beforeAll(async () => {
  server = await EdgeShare.start({ smbTcp: true });
  server.cli(['admin', 'add', 'boss', '--role', 'admin', '--password-stdin'], 'boss password 123\n');
  server.cli(['admin', 'add', 'auditor', '--role', 'reader', '--password-stdin'], 'auditor password 1\n');
  server.cli(['user', 'add', 'carol', '--password-stdin'], 'Carol-pass-1\n');
  server.cli(['user', 'add', 'dave', '--password-stdin'], 'Dave-pass-1\n');
  docsDir = mkdtempSync(path.join(os.tmpdir(), 'edgeshare-e2e-docs-'));
  projectsDir = mkdtempSync(path.join(os.tmpdir(), 'edgeshare-e2e-projects-'));
  writeFileSync(path.join(projectsDir, 'plan.txt'), 'the plan\n');
  server.cli(['share', 'add', 'docs', docsDir, '--read', 'Everyone', '--description', 'Documents']);
});
test.afterAll(async () => {
  await server.stop();
  rmSync(docsDir, { recursive: true, force: true });
  rmSync(projectsDir, { recursive: true, force: true });
});

async function openShares(page: Page, name = 'boss', password = 'boss password 123'): Promise<void> {
  await signIn(page, server.url, name, password);
  await page.goto(`${server.url}/shares`);
  await hydrated(page);
}

const editor = (page: Page) => page.locator('section.share-editor');

test('a new share is refused with the reason next to the field at fault', async ({ page }) => {
  await openShares(page);
  await page.getByRole('button', { name: 'New share' }).click();
  const form = editor(page);
  await expect(form.getByLabel('Share name')).toBeFocused();
  const create = form.getByRole('button', { name: 'Create share' });

  await form.getByLabel('Share name').fill('bad/name');
  await form.getByLabel('Directory').fill(projectsDir);
  await create.click();
  await expect(form.locator('#share-name-error')).toHaveText("'/' is not allowed in a share name.");
  await expect(form.getByLabel('Share name')).toHaveAttribute('aria-invalid', 'true');

  await form.getByLabel('Share name').fill('IPC$');
  await create.click();
  await expect(form.locator('#share-name-error')).toHaveText("'IPC$' is reserved by the server.");

  await form.getByLabel('Share name').fill('x'.repeat(81));
  await create.click();
  await expect(form.locator('#share-name-error')).toHaveText('Use at most 80 characters.');

  await form.getByLabel('Share name').fill('DOCS');
  await create.click();
  await expect(form.locator('#share-name-error')).toHaveText("A share named 'docs' already exists: share names that differ only in case are one name.");

  await form.getByLabel('Share name').fill('fresh');
  await form.getByLabel('Directory').fill('');
  await create.click();
  await expect(form.locator('#share-path-error')).toHaveText('Give an absolute path, such as /srv/shares/sales.');
  await expect(form.locator('#share-name-error')).toBeEmpty();

  await form.getByLabel('Directory').fill(path.join(projectsDir, 'missing'));
  await create.click();
  await expect(form.locator('#share-path-error')).toHaveText(`${path.join(projectsDir, 'missing')} does not exist.`);

  await form.getByLabel('Directory').fill(projectsDir);
  await form.getByRole('button', { name: 'Remove Everyone' }).click();
  await create.click();
  await expect(form.locator('#share-permissions-error')).toHaveText(
    'Add at least one permission: a share without any admits no one.',
  );
  await screenshot(page, 'shares-validation');
  expect(server.cli(['share', 'list'])).not.toContain('fresh');
});

test('a share created in the browser for a user admits that user over SMB and no one else', async ({ page }) => {
  await openShares(page);
  await page.getByRole('button', { name: 'New share' }).click();
  const form = editor(page);
  await form.getByLabel('Share name').fill('projects');
  await form.getByLabel('Directory').fill(projectsDir);
  await form.getByLabel('Description').fill('Project files');
  await form.getByRole('button', { name: 'Remove Everyone' }).click();
  await form.getByLabel('User', { exact: true }).selectOption('carol');
  await form.getByLabel('Access', { exact: true }).selectOption('change');
  await form.getByRole('button', { name: 'Add permission' }).click();
  await expect(form.getByLabel('Access for carol')).toHaveValue('change');
  await form.getByLabel('Concurrent user limit').fill('5');
  await form.getByText('Access-based enumeration').click();
  const command = `edgeshare share add projects ${projectsDir} --change carol --access-based-enumeration --max-users 5 --description 'Project files'`;
  await expect(form.getByTestId('share-command')).toHaveText(command);
  await screenshot(page, 'shares-create');
  await form.getByRole('button', { name: 'Create share' }).click();

  await expect(editor(page)).toHaveCount(0);
  const row = page.locator('tr[data-share="projects"]');
  await expect(row).toContainText('carol: Change');
  await expect(row).toContainText('Access-based enumeration');
  await expect(row).toContainText('At most 5 users');
  await expect(page.getByRole('status')).toContainText("Share 'projects' created.");
  await expect(page.getByRole('status')).toContainText(command);

  // The running engine takes the share within a second, without a restart.
  await expect.poll(() => server.smbclient('projects', 'carol', 'Carol-pass-1', 'ls').output).toContain('plan.txt');
  const dave = server.smbclient('projects', 'dave', 'Dave-pass-1', 'ls');
  expect(dave.status).not.toBe(0);
  expect(dave.output).toContain('NT_STATUS_ACCESS_DENIED');
  await screenshot(page, 'shares');
});

test('editing a share changes its description and permissions at once', async ({ page }) => {
  await openShares(page);
  const row = page.locator('tr[data-share="projects"]');
  await row.getByRole('button', { name: 'Edit projects' }).click();
  const form = editor(page);
  await expect(form.getByRole('heading')).toHaveText("Edit the share 'projects'");
  await expect(form.getByLabel('Description')).toHaveValue('Project files');
  await form.getByLabel('Description').fill('Read-only archive');
  await form.getByLabel('Access for carol').selectOption('read');
  // The command line changes the share in place, naming only what changed.
  const change = "edgeshare share set projects --description 'Read-only archive' --read carol";
  await expect(form.getByTestId('share-command')).toHaveText(change);
  await form.getByRole('button', { name: 'Save changes' }).click();

  await expect(editor(page)).toHaveCount(0);
  await expect(row).toContainText('Read-only archive');
  await expect(row).toContainText('carol: Read');
  await expect(page.getByRole('status')).toContainText("Share 'projects' saved.");
  await expect(page.getByRole('status')).toContainText(change);
  // Until the engine applies the change (within a second), a directory may still be made.
  let attempt = 0;
  await expect.poll(() => server.smbclient('projects', 'carol', 'Carol-pass-1', `mkdir made-${attempt++}`).output)
    .toContain('NT_STATUS_ACCESS_DENIED');
  expect(server.smbclient('projects', 'carol', 'Carol-pass-1', 'ls').output).toContain('plan.txt');

  // A rename to a taken name is refused next to the name, and nothing changes.
  await row.getByRole('button', { name: 'Edit projects' }).click();
  await form.getByLabel('Share name').fill('Docs');
  await form.getByLabel('Description').fill('must not stick');
  await form.getByRole('button', { name: 'Save changes' }).click();
  await expect(form.locator('#share-name-error')).toHaveText("A share named 'docs' already exists: share names that differ only in case are one name.");
  await form.getByRole('button', { name: 'Cancel' }).click();
  await expect(row).toContainText('Read-only archive');

  await page.goto(`${server.url}/audit?action=smb.share.`);
  const events = page.locator('table.events tbody tr');
  await expect(events.nth(0)).toContainText('Share changed');
  await expect(events.nth(0)).toContainText('boss');
  await expect(events.nth(1)).toContainText('Share created');
});

test('continuous availability is one checkbox: the share then grants persistent handles', async ({ page }) => {
  await openShares(page);
  const row = page.locator('tr[data-share="projects"]');
  await row.getByRole('button', { name: 'Edit projects' }).click();
  const form = editor(page);
  await form.getByText('Continuous availability').click();
  const change = 'edgeshare share set projects --continuous-availability on';
  await expect(form.getByTestId('share-command')).toHaveText(change);
  await form.getByRole('button', { name: 'Save changes' }).click();

  await expect(editor(page)).toHaveCount(0);
  await expect(row).toContainText('Continuously available');
  await expect(page.getByRole('status')).toContainText(change);
  // The same setting as the command line sees it, and the audit log's record of the change.
  expect(server.cli(['share', 'list'])).toMatch(/projects .*continuously available/);
  await page.goto(`${server.url}/audit?action=smb.share.`);
  await expect(page.locator('table.events tbody tr').nth(0)).toContainText('continuously available');
});

test('deleting a share asks first, then stops sharing and keeps the files', async ({ page }) => {
  const oldDir = mkdtempSync(path.join(os.tmpdir(), 'edgeshare-e2e-old-'));
  writeFileSync(path.join(oldDir, 'keep.txt'), 'keep me\n');
  server.cli(['share', 'add', 'old', oldDir]);
  await openShares(page);
  const row = page.locator('tr[data-share="old"]');
  await row.getByText('Delete…').click();
  await expect(row).toContainText("Delete the share 'old'?");
  await expect(row).toContainText('edgeshare share remove old');
  await row.getByRole('button', { name: 'Delete share' }).click();
  await expect(row).toHaveCount(0);
  await expect(page.getByRole('status')).toContainText("Share 'old' deleted");
  expect(server.cli(['share', 'list'])).not.toMatch(/^old /m);
  expect(existsSync(path.join(oldDir, 'keep.txt'))).toBe(true);
  rmSync(oldDir, { recursive: true, force: true });
});

test('every share is listed: searched, sorted and paged in the browser', async ({ page }) => {
  for (let i = 1; i <= 30; i++) {
    server.cli(['share', 'add', `bulk-${String(i).padStart(2, '0')}`, docsDir]);
  }
  await openShares(page);
  const rows = page.locator('table.shares tbody tr');
  await expect(page.getByTestId('share-count')).toHaveText('32 shares');
  await expect(rows).toHaveCount(25);
  await expect(rows.first()).toHaveAttribute('data-share', 'bulk-01');
  await page.getByRole('button', { name: 'Next →' }).click();
  await expect(rows).toHaveCount(7);
  await expect(page.getByText('Page 2 of 2')).toBeVisible();

  await page.getByRole('button', { name: 'Name', exact: true }).click();
  await expect(page.locator('th[aria-sort="descending"]')).toContainText('Name');
  await expect(rows.first()).toHaveAttribute('data-share', 'projects');

  await page.getByLabel('Search').fill('bulk-1');
  await expect(page.getByTestId('share-count')).toHaveText('10 of 32 shares match');
  await expect(rows).toHaveCount(10);
  await page.getByLabel('Search').fill('carol');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toHaveAttribute('data-share', 'projects');
});

test('on a phone the list and the form still fit', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await openShares(page);
  await page.getByRole('button', { name: 'New share' }).click();
  await expect(editor(page).getByLabel('Share name')).toBeVisible();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await screenshot(page, 'shares-phone');
});

test('a reader sees every share but no way to change one', async ({ page }) => {
  await openShares(page, 'auditor', 'auditor password 1');
  await expect(page.locator('table.shares tbody tr')).toHaveCount(25);
  await page.getByLabel('Search').fill('projects');
  await expect(page.locator('tr[data-share="projects"]')).toContainText('carol: Read');
  await expect(page.getByRole('button', { name: 'New share' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: /^Edit/ })).toHaveCount(0);
  await expect(page.getByText('Delete…')).toHaveCount(0);
  await screenshot(page, 'shares-reader');

  const response = await page.request.post(`${server.url}/api/remove_share`, {
    form: { name: 'projects' },
    headers: { Origin: server.url },
  });
  expect(response.status()).toBe(403);
  expect(await response.json()).toEqual({ Forbidden: { role: 'reader' } });
  expect(server.cli(['share', 'list'])).toContain('projects');
});
