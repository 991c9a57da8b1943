/**
 * The dashboard of a real running agent (an app under `node -r beehive/agent`, local workers) in a
 * headless Chromium: live charts fill from the agent's own series, the ratio slider changes the
 * agent's ratio, a handler's mode select changes how its next request runs.
 *
 * Without a browser this test fails; BEEHIVE_SKIP_BROWSER=1 skips it.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { launchBrowser } from '../admin/test/fixtures/browser';
import { call, startApp, type RunningApp } from './harness';

const skip = process.env.BEEHIVE_SKIP_BROWSER === '1';
const TOKEN = 'live-dashboard-token';
const APP = path.join(__dirname, 'fixtures/auto-app.cjs');

describe.skipIf(skip)('dashboard of a running agent, in a headless browser', () => {
  let app: RunningApp;
  let context: BrowserContext;
  let page: Page;
  let profileDir: string;
  let load: NodeJS.Timeout;
  const state = async () => JSON.parse((await call(app.url, 'GET', '/__state')).body);

  beforeAll(async () => {
    app = await startApp(APP, { BEEHIVE_MODE: 'manual', BEEHIVE_RATIO: '0', BEEHIVE_SHADOW_RUNS: '0', BEEHIVE_ADMIN_TOKEN: TOKEN, BEEHIVE_WORKERS: '1' });
    // A trickle of requests so the charts have something to draw.
    load = setInterval(() => {
      void call(app.url, 'GET', '/heavy?rounds=200').catch(() => {});
      void call(app.url, 'GET', '/light').catch(() => {});
    }, 50);
    const admin = (await state()).agent.adminUrl as string;
    profileDir = mkdtempSync(path.join(tmpdir(), 'beehive-chromium-'));
    context = await launchBrowser(profileDir, {
      viewport: { width: 1440, height: 1024 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${admin}/?poll=250#token=${TOKEN}`);
  });

  afterAll(async () => {
    clearInterval(load);
    await context?.close();
    await app?.stop();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  });

  it('lists the real handlers and draws charts from the agent', async () => {
    await page.waitForFunction(() => document.querySelectorAll('#handlers tr').length >= 3);
    await page.waitForFunction(() => Array.from(document.querySelectorAll('svg.chart')).some((c) => c.querySelector('polyline')));
  });

  it('moving the ratio slider changes the running agent, and requests start going to workers', async () => {
    await page.locator('#ratio').fill('100');
    await expect.poll(async () => (await state()).agent.ratio, { timeout: 10_000 }).toBe(1);
    await expect.poll(async () => (await state()).agent.handlers.find((h: { id: string }) => h.id === 'GET /heavy').offloaded, { timeout: 20_000 }).toBeGreaterThan(0);
  });

  it('a handler mode select sends that handler back to local', async () => {
    await page.locator('select[aria-label="mode of GET /light"]').selectOption('off');
    await expect.poll(async () => (await state()).agent.handlers.find((h: { id: string }) => h.id === 'GET /light').mode, { timeout: 10_000 }).toBe('off');
    const dir = path.join(__dirname, '../../test-artifacts');
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: path.join(dir, 'dashboard-live.png'), fullPage: true });
  });
});
