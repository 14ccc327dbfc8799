// What the specs do often on the console pages.
import { expect, Page } from '@playwright/test';

/**
 * Waits until the browser bundle has taken over the server-rendered page, including each part
 * that shows loaded data (`ResourceView`, which hydrates after the rest): its buttons work from
 * then on.
 */
export async function hydrated(page: Page): Promise<void> {
  await page.waitForFunction(
    () => document.body.dataset.hydrated === 'true' && document.querySelector('.resource[data-state="loading"]') === null,
  );
}

export async function signIn(page: Page, url: string, name: string, password: string): Promise<void> {
  await page.goto(`${url}/login`);
  await hydrated(page);
  await page.getByLabel('Account name').fill(name);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('viewer-name')).toHaveText(name);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `test-results/screens/${name}.png`, fullPage: true });
}
