import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../support/app';
import { registerUser } from '../support/auth';

// Swagger UI under the Content-Security-Policy /docs is served with, in a real headless Chromium (Debian's
// `chromium` package; .ci/run installs it): what a person does with it must work, and nothing it loads or
// runs may be refused by the policy.
jest.setTimeout(120_000);

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function chromiumPath(): string {
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('chromium is not installed: apt-get install -y chromium (as .ci/run does)');
  }
}

describe('Swagger UI in Chromium', () => {
  let t: TestApp;
  let profile: string;
  let browser: BrowserContext;
  let page: Page;
  // Console lines and `securitypolicyviolation` events: a refused script, style, image or request shows here.
  const reports: string[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    profile = mkdtempSync(join(tmpdir(), 'tasks-api-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath(),
      headless: true,
      args: CHROMIUM_ARGS,
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(20_000);
    page.on('console', (message) => reports.push(`console ${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => reports.push(`page error: ${error.message}`));
    await page.exposeFunction('reportViolation', (text: string) => reports.push(`CSP violation: ${text}`));
    // As text: the tests compile without the DOM's types.
    await page.addInitScript({
      content: `document.addEventListener('securitypolicyviolation', (event) =>
        reportViolation(event.violatedDirective + ' blocked ' + event.blockedURI));`,
    });
  });

  afterAll(async () => {
    await browser?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await t?.close();
  });

  it('authorizes with a pasted token and executes GET /api/v1/users/me with 200, under the CSP', async () => {
    const account = await registerUser(t.api);

    const response = await page.goto(`${t.url}/docs`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");

    // A step that times out says what the page reported (a policy that refuses a script shows up there).
    await withReports(async () => {
      await page.getByRole('button', { name: 'Authorize' }).first().click();
      await page.locator('#auth-bearer-value').fill(account.accessToken);
      await page.getByRole('button', { name: 'Apply credentials' }).click();
      await page.locator('.auth-btn-wrapper').getByRole('button', { name: 'Close' }).click();

      const operation = page.locator('.opblock-get').filter({ has: page.locator('[data-path="/api/v1/users/me"]') });
      await operation.locator('.opblock-summary').click();
      await operation.getByRole('button', { name: 'Try it out' }).click();
      await operation.getByRole('button', { name: 'Execute' }).click();

      const live = operation.locator('.live-responses-table .response');
      await expect(live.locator('.response-col_status').first().textContent()).resolves.toBe('200');
      await expect(live.locator('.response-col_description').first().textContent()).resolves.toContain(
        account.user.email,
      );
    });
    expect(reports).toEqual([]);
  });

  async function withReports(steps: () => Promise<void>): Promise<void> {
    try {
      await steps();
    } catch (error) {
      throw new Error(`${(error as Error).message}\nthe page reported:\n${reports.join('\n') || '(nothing)'}`, {
        cause: error,
      });
    }
  }

  it('keeps the bearer token out of the browser storage', async () => {
    const stored = await page.evaluate<string>('JSON.stringify({ ...localStorage, ...sessionStorage })');
    expect(stored).not.toMatch(/eyJ|authorized/);
  });
});
