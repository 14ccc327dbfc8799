import { expect, test } from '@playwright/test';
import { EdgeShare } from '../support/server';
import { hydrated, signIn } from '../support/console';

let server: EdgeShare;
test.beforeAll(async () => {
  server = await EdgeShare.start();
  server.cli(['admin', 'add', 'admin', '--role', 'admin', '--password-stdin'], 'hydrated password\n');
});
test.afterAll(async () => { await server.stop(); });

test('the sign-in page reveals the password in the browser alone', async ({ page }) => {
  await page.goto(`${server.url}/login`);
  await hydrated(page);
  const password = page.getByLabel('Password', { exact: true });
  await expect(password).toHaveAttribute('type', 'password');
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.getByLabel('Show password').check();
  await expect(password).toHaveAttribute('type', 'text');
  expect(requests).toEqual([]);
});

test('audit filters apply without reloading the page', async ({ page }) => {
  await signIn(page, server.url, 'admin', 'hydrated password');
  await page.goto(`${server.url}/audit`);
  await hydrated(page);
  await page.evaluate(() => ((window as any).__sameDocument = true));
  await expect(page.getByTestId('audit-count')).toContainText('events');
  await page.getByLabel('Result').selectOption('failure');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/outcome=failure/);
  await expect(page.getByTestId('audit-count')).toContainText('0 events');
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
});

test('the console works on a phone-sized screen', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, server.url, 'admin', 'hydrated password');
  const navigation = page.getByRole('navigation', { name: 'Console' });
  await expect(navigation).toBeHidden();
  await page.getByRole('button', { name: 'Navigation' }).click();
  await expect(navigation).toBeVisible();
  await navigation.getByRole('link', { name: 'Audit log' }).click();
  await expect(page.getByRole('heading', { name: 'Audit log' })).toBeVisible();
  await expect(navigation).toBeHidden();
});

test('every console page is rendered once on the server, and what it loaded reaches the browser intact', async ({ page }) => {
  // A page rendered twice on the server creates its resources twice: the first set loses its
  // request context and is sent as failed, and the browser, which creates them once, pairs its
  // resources with the wrong data and never hydrates the rest of the page.
  await signIn(page, server.url, 'admin', 'hydrated password');
  const pages = ['/', '/quic', '/certificates', '/shares', '/users', '/sessions', '/health', '/accounts', '/audit', '/welcome'];
  for (const path of pages) {
    for (let load = 0; load < 5; load++) {
      const html = await (await page.request.get(`${server.url}${path}`)).text();
      const resolved = [...html.matchAll(/__RESOLVED_RESOURCES\[\d+\] = "(.*?)";/g)].map((m) => m[1]);
      expect(resolved.length, `${path} sends what it loaded`).toBeGreaterThan(0);
      expect(resolved.filter((r) => r.startsWith('{\\"Err\\"')), `${path}, load ${load}`).toEqual([]);
    }
  }
});
