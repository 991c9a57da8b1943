/**
 * The browser tests need no browser installed on the machine: with no `chromium` on PATH they use
 * the Chromium inside the @sparticuz/chromium npm package, unpacked into a fresh folder here as on
 * a new machine, and it really renders a page. Debian's binary on PATH is preferred when present.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import { findOnPath, resolveBrowser } from './fixtures/browser';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bh-browser-resolve-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A PATH with node and the shell tools but no Chromium, whatever this machine has installed. */
function pathWithoutChromium(): string {
  const bin = path.join(tmp, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir || !fs.existsSync(dir)) continue;
    for (const name of fs.readdirSync(dir)) {
      if (/chrom/i.test(name) || fs.existsSync(path.join(bin, name))) continue;
      fs.symlinkSync(path.join(dir, name), path.join(bin, name));
    }
  }
  return bin;
}

describe('which Chromium the browser tests drive', () => {
  it('takes the npm package when no chromium is on PATH, and it renders a page', async () => {
    const PATH = pathWithoutChromium();
    expect(findOnPath(['chromium', 'chromium-browser'], PATH)).toBeUndefined();
    const cache = fs.mkdtempSync(path.join(tmp, 'cache-'));
    const b = resolveBrowser({ PATH }, cache);
    expect(b.source).toBe('npm');
    expect(b.executablePath.startsWith(cache)).toBe(true);
    // Its NSS/NSPR/expat come from the package, not from a system browser's dependencies.
    const ldd = execFileSync('ldd', [b.executablePath], { env: { ...process.env, ...b.env }, encoding: 'utf8' });
    expect(ldd).not.toContain('not found');
    for (const lib of ['libnss3.so', 'libnspr4.so', 'libexpat.so.1']) expect(ldd).toMatch(new RegExp(`${lib.replace(/\./g, '\\.')} => ${cache}`));
    expect(b.args).not.toContain('--disable-web-security');

    const browser = await chromium.launch({ executablePath: b.executablePath, args: b.args, headless: true, env: { ...process.env, ...b.env, PATH } as Record<string, string> });
    try {
      const page = await browser.newPage();
      await page.setContent('<p id="x">rendered</p><script>document.getElementById("x").textContent += " with script"</script>');
      expect(await page.textContent('#x')).toBe('rendered with script');
    } finally {
      await browser.close();
    }
    // A second resolution reuses the unpacked copy.
    expect(resolveBrowser({ PATH }, cache).executablePath).toBe(b.executablePath);
  });

  it('prefers a chromium on PATH (Debian package), and BEEHIVE_CHROMIUM over both', () => {
    const bin = path.join(tmp, 'fake-bin');
    fs.mkdirSync(bin, { recursive: true });
    const fake = path.join(bin, 'chromium');
    fs.writeFileSync(fake, '#!/bin/sh\n', { mode: 0o755 });
    expect(resolveBrowser({ PATH: `${tmp}/nowhere${path.delimiter}${bin}` })).toMatchObject({ source: 'system', executablePath: fake });
    expect(resolveBrowser({ PATH: bin, BEEHIVE_CHROMIUM: fake })).toMatchObject({ source: 'env', executablePath: fake });
    expect(() => resolveBrowser({ PATH: bin, BEEHIVE_CHROMIUM: path.join(tmp, 'missing') })).toThrow(/BEEHIVE_CHROMIUM=.*missing is not an executable/);
  });
});
