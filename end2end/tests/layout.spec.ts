import { expect, test } from '@playwright/test';
import { EdgeShare } from '../support/server';
import { hydrated, screenshot, signIn } from '../support/console';

let server: EdgeShare;
test.beforeAll(async () => {
  server = await EdgeShare.start();
  server.cli(['admin', 'add', 'boss', '--role', 'admin', '--password-stdin'], 'boss password 123\n');
  server.cli(['cert', 'generate', '--dns', 'fs.e2e.test', '--ca', 'E2E Layout CA']);
});
test.afterAll(async () => { await server.stop(); });

const PAGES: [string, string][] = [
  ['/', 'Dashboard'],
  ['/welcome', 'Set up SMB over QUIC'],
  ['/quic', 'SMB over QUIC'],
  ['/certificates', 'Certificates'],
  ['/shares', 'Shares'],
  ['/users', 'Users'],
  ['/sessions', 'Sessions and open files'],
  ['/health', 'Health'],
  ['/accounts', 'Console accounts'],
  ['/audit', 'Audit log'],
];

for (const [width, height, device] of [[1280, 800, 'desktop'], [390, 844, 'phone']] as const) {
  test(`every page fits a ${device} screen (${width}x${height}) without sideways scrolling`, async ({ page }) => {
    await page.setViewportSize({ width, height });
    await signIn(page, server.url, 'boss', 'boss password 123');
    for (const [path, heading] of PAGES) {
      await page.goto(`${server.url}${path}`);
      await hydrated(page);
      await expect(page.getByRole('heading', { level: 1, name: heading })).toBeVisible();
      // Wide tables scroll inside their own frame; the page itself never does.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `${path} overflows by ${overflow}px`).toBeLessThanOrEqual(0);
      await screenshot(page, `${device}${path === '/' ? '-dashboard' : path.replace(/\//g, '-')}`);
    }
  });
}

test('at 1280x800 the certificates table fits its card, shows each certificate\'s health and keeps its rows short', async ({ page }) => {
  await signIn(page, server.url, 'boss', 'boss password 123');
  await page.goto(`${server.url}/certificates`);
  await hydrated(page);
  const frame = await page.locator('.table-wrap:has(table.certificates)').boundingBox();
  const headers = await page.locator('table.certificates thead th').allTextContents();
  const column = headers.indexOf('Health');
  const health = page.locator('table.certificates tbody tr', { hasText: 'fs.e2e.test' }).locator('td').nth(column);
  await expect(health).toContainText(/\S/);
  const cell = await health.boundingBox();
  expect(frame && cell && cell.x + cell.width <= frame.x + frame.width, 'the health column is scrolled out of view')
    .toBe(true);
  const overflow = await page.locator('.table-wrap:has(table.certificates)')
    .evaluate((wrap) => wrap.scrollWidth - wrap.clientWidth);
  expect(overflow, 'the table is wider than its card').toBeLessThanOrEqual(0);
  // Each row holds its facts and buttons in at most a few lines, not a column of buttons.
  for (const row of await page.locator('table.certificates tbody tr').all()) {
    const box = await row.boundingBox();
    expect(box && box.height, 'a certificate row is tall and mostly empty').toBeLessThanOrEqual(120);
  }
  // The generate form's command line shows its shape before anything is typed.
  await expect(page.getByText('edgeshare cert generate --dns NAME')).toBeVisible();
});

test('every input of the setup wizard and the certificate forms has a label, and focus is visible', async ({ page }) => {
  await signIn(page, server.url, 'boss', 'boss password 123');
  for (const path of ['/welcome', '/certificates', '/quic']) {
    await page.goto(`${server.url}${path}`);
    await hydrated(page);
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
        .filter((el) => !(el.id && document.querySelector(`label[for="${el.id}"]`)) && !el.closest('label')
          && !el.getAttribute('aria-label'))
        .map((el) => el.outerHTML.slice(0, 120)));
    expect(unlabelled, path).toEqual([]);
  }
  await page.keyboard.press('Tab');
  const outline = await page.evaluate(() => {
    const el = document.activeElement as HTMLElement;
    const style = getComputedStyle(el);
    return `${style.outlineStyle} ${style.outlineWidth}`;
  });
  expect(outline).not.toMatch(/^none/);
});
