/**
 * The dashboard in a real headless Chromium (see fixtures/browser.ts for which) driven by playwright-core: charts
 * draw from live polls, the ratio slider and a handler's mode select change the agent through the
 * API with the token, and a screenshot lands in test-artifacts/dashboard.png.
 *
 * Without a browser this test fails, so CI cannot pass it by accident; BEEHIVE_SKIP_BROWSER=1 skips it.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { launchBrowser } from './fixtures/browser';
import { createSeriesSampler, startAdminServer, type AdminServer } from '../index';
import { burstStep } from './fixtures/burst-scenario';
import { createMemoryControl, type MemoryControl } from './fixtures/memory-control';

const skip = process.env.BEEHIVE_SKIP_BROWSER === '1';
const TOKEN = 'dashboard-test-token';
const artifacts = join(__dirname, '../../../test-artifacts');

describe.skipIf(skip)('dashboard in a headless browser', () => {
  let control: MemoryControl;
  let admin: AdminServer;
  let context: BrowserContext;
  let page: Page;
  let ticker: NodeJS.Timeout;
  let profileDir: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    control = createMemoryControl();
    // Four simulated minutes of history with a burst, then one simulated second per 100 ms of test.
    let second = 0;
    const start = Date.now() - 240_000;
    const series = createSeriesSampler(control, { intervalMs: 100, now: () => start + second * 1000 });
    for (; second < 240; second++) { burstStep(control, second); series.sample(); }
    ticker = setInterval(() => { burstStep(control, second++); series.sample(); }, 100);
    admin = await startAdminServer({ control, port: 0, token: TOKEN, series });
    profileDir = mkdtempSync(join(tmpdir(), 'beehive-chromium-'));
    context = await launchBrowser(profileDir, {
      viewport: { width: 1440, height: 1024 },
      deviceScaleFactor: 1,
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
    await page.goto(`${admin.url}/?poll=200#token=${TOKEN}`);
  });

  afterAll(async () => {
    clearInterval(ticker);
    await context?.close();
    await admin?.close();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  });

  it('draws every chart from live samples and keeps the token out of the URL', async () => {
    await page.waitForFunction(() => {
      const charts = Array.from(document.querySelectorAll('svg.chart'));
      return charts.length === 8 && charts.every((c) => Number(c.getAttribute('data-drawn')) >= 10 && c.querySelector('polyline'));
    });
    expect(await page.locator('#c-rate polyline').count()).toBeGreaterThanOrEqual(2);
    expect(await page.locator('#handlers tr').count()).toBe(3);
    expect(await page.evaluate(() => [location.hash, sessionStorage.getItem('beehive.adminToken')])).toEqual(['', TOKEN]);
    expect(pageErrors).toEqual([]); // also proves the CSP admits the inline script
  });

  it('changes the global ratio from the slider', async () => {
    await page.locator('#ratio').fill('40');
    await expect.poll(() => control.state.ratio).toBe(0.4);
    await page.waitForFunction(() => document.getElementById('k-ratio')?.textContent === '40%');
    expect(control.calls).toContainEqual(['setRatio', 0.4]);
    // The event log says who changed it, when and from where.
    await page.waitForFunction(() => Array.from(document.querySelectorAll('#events tr')).some((tr) => /\u2192 40%/.test(tr.textContent ?? '')));
    const row = await page.locator('#events tr', { hasText: '\u2192 40%' }).first().locator('td').allTextContents();
    expect(row[1]).toBe('ratio');
    expect(row[2]).toMatch(/^\d+% \u2192 40%$/);
    expect(row.slice(3)).toEqual(['dashboard', '127.0.0.1']);
  });

  it('shows the incident: re-executions, failures by kind, conflicts, cold starts, p50/p99 local vs offloaded', async () => {
    await page.waitForFunction(() => /timeout \d+/.test(document.getElementById('k-failures-sub')?.textContent ?? ''));
    expect(Number(await page.textContent('#k-failures'))).toBeGreaterThan(0);
    expect(await page.textContent('#k-reexec-sub')).toMatch(/^\d+ total · \d+ conflicts \(\d+ retried on workers\) · 1 diverged$/);
    expect(await page.textContent('#k-cold-sub')).toMatch(/^of [\d.]+k? invocations$/);
    const thumb = await page.locator('#handlers tr[data-id="GET /thumb"] td').allTextContents();
    expect(Number(thumb[7])).toBeGreaterThan(0); // re-executed
    expect(Number(thumb[8])).toBeGreaterThan(0); // conflicts
    expect(thumb[9]).toBe('0'); // retried on workers
    expect(thumb[11]).toBe('0'); // refused
    expect(thumb[12]).toMatch(/^timeout \d+$/);
    expect(thumb[13]).toBe('12 ms / 17 ms'); // local p50 / p99
    expect(thumb[14]).toBe('40 ms / 69 ms'); // offloaded p50 / p99
    // Conflicts by reason on hover.
    expect(await page.locator('#handlers tr[data-id="GET /thumb"] td').nth(8).getAttribute('title')).toMatch(/^read \d+$/);
    const comments = await page.locator('#handlers tr[data-id="POST /topics/:id/comments"] td').allTextContents();
    expect(comments[10]).toBe('1'); // the diverged shadow
  });

  it('keeps the controls disabled until a token is given', async () => {
    const other = await context.newPage(); // a tab of its own: no token in its session storage
    try {
      await other.goto(`${admin.url}/?poll=200`);
      await other.waitForFunction(() => document.querySelectorAll('#handlers select').length === 3);
      expect(await other.locator('#ratio').isDisabled()).toBe(true);
      for (const sel of await other.locator('#handlers select').all()) expect(await sel.isDisabled()).toBe(true);
      expect(await other.textContent('#ratio-hint')).toMatch(/read only: enter the admin token/);
      await other.fill('#token', TOKEN);
      await other.click('#token-form button');
      expect(await other.locator('#ratio').isDisabled()).toBe(false);
      for (const sel of await other.locator('#handlers select').all()) expect(await sel.isDisabled()).toBe(false);
    } finally {
      await other.close();
    }
  });

  it('changes a handler mode from its select', async () => {
    await page.locator('select[aria-label="mode of GET /thumb"]').selectOption('off');
    await expect.poll(() => control.state.handlers[0].mode).toBe('off');
    await page.waitForFunction(() => document.getElementById('toast')?.textContent === 'GET /thumb: mode off');
  });

  it('shows the refusal when the token is wrong and changes nothing', async () => {
    await page.fill('#token', 'wrong-token');
    await page.click('#token-form button');
    await page.locator('select[aria-label="mode of GET /health"]').selectOption('always');
    await page.waitForFunction(() => document.getElementById('toast')?.className.includes('error'));
    expect(await page.textContent('#toast')).toMatch(/not valid/);
    expect(control.state.handlers[2].mode).toBe('auto');
    await page.evaluate((t) => sessionStorage.setItem('beehive.adminToken', t), TOKEN);
  });

  it('saves a screenshot', async () => {
    // Let the failed select settle back to the agent's value, and the error toast go, before the picture.
    await page.waitForFunction(() => (document.querySelector('select[aria-label="mode of GET /health"]') as HTMLSelectElement).value === 'auto');
    await page.evaluate(() => { document.getElementById('toast')!.className = 'toast'; });
    await page.waitForFunction(() => getComputedStyle(document.getElementById('toast')!).opacity === '0');
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, 'dashboard.png'), fullPage: true });
    expect(existsSync(join(artifacts, 'dashboard.png'))).toBe(true);
  });
});
