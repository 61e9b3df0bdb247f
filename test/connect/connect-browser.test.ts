import { existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/auth/secrets.js';
import type { SandboxTenant } from '../../src/sandbox/index.js';
import { createTestDatabase } from '../helpers/database.js';
import { createTestTenant } from '../helpers/fixtures.js';
import {
  connectSandbox,
  sandboxCredentials,
  sandboxDependencies,
  startFileSandbox,
} from '../helpers/sandbox.js';
import { createConnectApp, createLink, type SandboxForm, sandboxForm } from './helpers.js';

/**
 * The connect flow as an IT admin lives it, in real headless Chromium (Debian's package, driven
 * by playwright-core). Skipped only on a developer machine without chromium; in CI it must run.
 */
const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available && process.env.CI) throw new Error(`${CHROMIUM} is missing; .ci/run installs it`);
const SCREENSHOTS = process.env.CONNECT_SCREENSHOTS ?? '/tmp/connect-screenshots';

describe.skipIf(!available)('the connect page in Chromium', async () => {
  const db = await createTestDatabase();
  const sandbox = await startFileSandbox({ workers: 60, seed: 5 });
  const { app } = await createConnectApp(db, sandbox);
  const platform = await createTestTenant(db, 'Benefits Co');
  const auth = { authorization: `Bearer ${platform.apiKey}` };
  let browser: Browser;
  let origin = '';

  beforeAll(async () => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    mkdirSync(SCREENSHOTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  async function openLink(body: Record<string, unknown> = {}, viewport = { width: 1100, height: 900 }) {
    const { body: link } = await createLink(app, platform.apiKey, body);
    const page = await browser.newPage({ viewport });
    const response = await page.goto(`${origin}/connect/${link.link_token}`);
    return { page, link, status: response?.status() };
  }

  async function fillCredentials(page: Page, form: SandboxForm) {
    await page.locator('#to-step-2').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator(':focus').getAttribute('id')).toBe('step-2-title');
    await page.fill('#tenant_id', form.tenant_id);
    await page.fill('#client_id', form.client_id);
    if (form.auth_type === 'secret') {
      await page.check('input[name="auth_type"][value="secret"]');
      await page.fill('#client_secret', form.client_secret ?? '');
      await page.fill('#client_secret_expires_at', form.client_secret_expires_at ?? '');
    } else {
      await page.fill('#certificate_pem', form.certificate_pem ?? '');
      await page.fill('#private_key_pem', form.private_key_pem ?? '');
      await page.locator('#private_key_pem').blur();
    }
    await page.fill('#dataverse_url', form.dataverse_url);
    if (form.fno_url) await page.fill('#fno_url', form.fno_url);
    await page.click('summary');
    await page.fill('#authority_host', form.authority_host);
  }

  /** Runs the checks and waits until the last result is in. */
  async function runChecks(page: Page) {
    await page.click('#run-checks');
    await expect
      .poll(() => page.textContent('#checks-status'), { timeout: 30_000 })
      .toMatch(/passed|Ready|failed/);
    return page.$$eval('#checks .check', (items) =>
      items.map((item) => ({
        id: item.getAttribute('data-check-id') ?? '',
        status: item.getAttribute('data-status') ?? '',
        text: item.textContent ?? '',
      })),
    );
  }

  async function tenantNamed(name: string): Promise<SandboxTenant> {
    return sandbox.createTenant({ name, workers: 20 });
  }

  it('links an account end to end: prepare, credentials, every check passes, connect, first sync, employees via the API', async () => {
    const { page, link, status } = await openLink();
    expect(status).toBe(200);
    await expect.poll(() => page.locator('h1').textContent()).toContain('Connect Contoso Ltd');
    await page.screenshot({ path: `${SCREENSHOTS}/1-prepare.png`, fullPage: true });

    // Field validation happens on the page: nothing is sent while a field is wrong.
    const posted: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST') posted.push(request.url());
    });
    const form = sandboxForm(sandbox.defaultTenant);
    await fillCredentials(page, { ...form, tenant_id: 'contoso.onmicrosoft.com' });
    await page.click('#run-checks');
    await expect.poll(() => page.textContent('#tenant_id-error')).toContain('must be a GUID');
    expect(await page.getAttribute('#tenant_id', 'aria-invalid')).toBe('true');
    expect(await page.locator(':focus').getAttribute('id')).toBe('tenant_id');
    await page.screenshot({ path: `${SCREENSHOTS}/2-field-error.png`, fullPage: true });
    expect(posted).toEqual([]);
    await page.fill('#tenant_id', form.tenant_id);

    const checks = await runChecks(page);
    expect(checks.map((check) => check.id)).toEqual(
      expect.arrayContaining(['token', 'whoami', 'table:cdm_worker', 'table:cdm_employment', 'expiry']),
    );
    for (const check of checks) expect(check, check.text).toMatchObject({ status: 'ok' });
    expect(await page.textContent('#checks-status')).toContain('All checks passed');
    expect(await page.textContent('#models')).toContain('Employees: Dataverse');
    await page.screenshot({ path: `${SCREENSHOTS}/3-checks.png`, fullPage: true });

    await page.click('#connect-button');
    await page.waitForSelector('#finish:not([hidden])', { timeout: 60_000 });
    const rows = await page.$$eval('#progress tbody tr', (items) =>
      items.map((item) => ({
        model: item.getAttribute('data-model'),
        state: item.getAttribute('data-state'),
        text: item.textContent,
      })),
    );
    expect(rows.find((row) => row.model === 'employees')).toMatchObject({ state: 'done' });
    expect(rows.find((row) => row.model === 'employees')?.text).toMatch(/Done: 60 records/);
    expect(await page.textContent('#finish')).toContain('Connected');
    await page.screenshot({ path: `${SCREENSHOTS}/4-finished.png`, fullPage: true });

    const publicToken = (await page.textContent('#public-token'))?.trim() ?? '';
    expect(publicToken).toMatch(/^hpt_/);
    const exchange = await app.inject({
      method: 'POST',
      url: '/v1/account-token',
      headers: auth,
      payload: { public_token: publicToken },
    });
    expect(exchange.statusCode).toBe(200);
    const employees = await app.inject({
      method: 'GET',
      url: '/v1/employees?page_size=100',
      headers: { ...auth, 'x-account-token': exchange.json().account_token },
    });
    expect(employees.statusCode).toBe(200);
    expect(employees.json().results).toHaveLength(60);

    // The link is spent: reopening it shows a clear page, not an error dump.
    const again = await page.goto(`${origin}/connect/${link.link_token}`);
    expect(again?.status()).toBe(410);
    expect(await page.textContent('h1')).toBe('This link has already been used');
    await page.screenshot({ path: `${SCREENSHOTS}/5-used-link.png` });
    await page.close();
  }, 120_000);

  it('shows the certificate thumbprint and expiry read from the PEM', async () => {
    const { page } = await openLink();
    await fillCredentials(page, sandboxForm(sandbox.defaultTenant, 'certificate'));
    await page.waitForSelector('#certificate-summary:not([hidden])');
    const summary = await page.textContent('#certificate-summary');
    expect(summary).toMatch(/Thumbprint: [0-9A-F]{40}/);
    expect(summary).toMatch(/Expires: \d{4}-\d{2}-\d{2} \(in \d+ days\)/);
    expect(summary).toContain('matches the certificate');
    await page.close();
  }, 60_000);

  it('explains a wrong client secret (AADSTS7000215) and keeps Connect disabled', async () => {
    const tenant = await tenantNamed('wrongsecret');
    const { page } = await openLink();
    await fillCredentials(page, { ...sandboxForm(tenant), client_secret: 'not-the-value-but-the-id' });
    const checks = await runChecks(page);
    expect(checks[0]).toMatchObject({ id: 'token', status: 'failure' });
    expect(checks[0]?.text).toContain('AADSTS7000215');
    expect(checks[0]?.text).toContain('How to fix');
    expect(checks[0]?.text).toContain('Certificates & secrets');
    expect(await page.isDisabled('#connect-button')).toBe(true);
    await page.screenshot({ path: `${SCREENSHOTS}/6-wrong-secret.png`, fullPage: true });
    await page.close();
  }, 60_000);

  it('explains an expired client secret', async () => {
    const tenant = await tenantNamed('expired');
    tenant.controls.expireClientSecret();
    const { page } = await openLink();
    await fillCredentials(page, sandboxForm(tenant));
    const checks = await runChecks(page);
    expect(checks[0]).toMatchObject({ id: 'token', status: 'failure' });
    expect(checks[0]?.text).toContain('AADSTS7000222');
    expect(checks[0]?.text).toContain('create a new secret');
    expect(await page.isDisabled('#connect-button')).toBe(true);
    await page.close();
  }, 60_000);

  it('explains a 403 from an application user without a security role', async () => {
    const tenant = await tenantNamed('norole');
    tenant.controls.removeSecurityRole();
    const { page } = await openLink();
    await fillCredentials(page, sandboxForm(tenant));
    const checks = await runChecks(page);
    expect(checks.find((check) => check.id === 'whoami')).toMatchObject({ status: 'ok' });
    // One cause, one item: every unreadable table in one failure with one fix.
    const failures = checks.filter((check) => check.id.startsWith('table:') && check.status === 'failure');
    expect(failures).toHaveLength(1);
    const worker = failures[0];
    expect(worker?.text).toContain('cdm_worker');
    expect(worker?.text).toContain('assign a security role');
    expect(worker?.text).toContain('Power Platform admin center');
    expect(await page.isDisabled('#connect-button')).toBe(true);
    await page.screenshot({ path: `${SCREENSHOTS}/7-no-role.png`, fullPage: true });
    await page.close();
  }, 60_000);

  it('shows where dependents come from: the F&O fallback when it serves them, otherwise unavailable and why', async () => {
    const tenant = sandbox.defaultTenant;
    // What the provider's plan says for this account decides what the page must show.
    const plan = await connectSandbox(
      '00000000-0000-0000-0000-000000000000',
      sandbox,
      sandboxDependencies(sandbox),
      sandboxCredentials(tenant, 'secret', true),
    ).plan();
    const dependents = plan.models.find((model) => model.model === 'dependents');
    const { page } = await openLink({}, { width: 390, height: 844 });
    await fillCredentials(page, { ...sandboxForm(tenant), fno_url: tenant.fnoUrl });
    await runChecks(page);
    const item = page.locator('#models .check', { hasText: 'Dependents' });
    if (dependents?.source === 'unavailable') {
      expect(await item.textContent()).toContain('Dependents: unavailable');
      expect(await item.textContent()).toContain(dependents.reason);
    } else {
      expect(await item.textContent()).toContain('Dependents: Finance & Operations fallback');
    }
    // Readable on a phone: nothing wider than the screen.
    const overflow = await page.evaluate(() => {
      // Runs in the page (this file has no DOM types): the layout's width against the screen's.
      const view = globalThis as unknown as {
        innerWidth: number;
        document: { documentElement: { scrollWidth: number } };
      };
      return view.document.documentElement.scrollWidth - view.innerWidth;
    });
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: `${SCREENSHOTS}/8-phone-models.png`, fullPage: true });
    await page.close();
  }, 60_000);

  it('shows an expired link as a clear page', async () => {
    const { body: link } = await createLink(app, platform.apiKey);
    await db.pool.query(
      "UPDATE connect_links SET expires_at = now() - interval '1 day' WHERE token_hash = $1",
      [hashSecret(link.link_token)],
    );
    const page = await browser.newPage();
    const response = await page.goto(`${origin}/connect/${link.link_token}`);
    expect(response?.status()).toBe(410);
    expect(await page.textContent('h1')).toBe('This link has expired');
    expect(await page.textContent('main')).toContain('Ask Benefits Co to send you a new one');
    await page.close();
  }, 30_000);
});
