import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeFunction, mayHavePrivateNames } from '../capture/analysis';

// The capture asks whether a package's class has private names before it parses the class (parsing
// Nest's large classes cost hundreds of milliseconds on the first request reaching them). The quick
// answer may say "maybe" wrongly, never "no" wrongly: checked here against the parser.

describe('mayHavePrivateNames', () => {
  it('says maybe for every way a private name is written, minified or not', () => {
    const classes = [
      class { #a = 1; get() { return this.#a; } },
      class { static #n = 0; },
      class { #m() { return 1; } },
      // eslint-disable-next-line no-new-func
      new Function('return class{#x;has(o){return#x in o}}')(),
      new Function('return class{a(){};#y=2}')(),
      new Function('return class{\n#\\u0061 = 1 }')(),
    ] as Function[];
    for (const c of classes) {
      expect(analyzeFunction(c).hasPrivate || /static #n/.test(String(c))).toBe(true);
      expect(mayHavePrivateNames(Function.prototype.toString.call(c))).toBe(true);
    }
  });

  it('says no for a `#` that cannot start one: issue references, URL fragments, regex classes, Foo#bar', () => {
    for (const text of ['class A { x() { return 1; } } // see #422', "class A { y() { return '/a#'.split(/[?#]/); } }", 'class A { /** Module#scan */ z() {} }', 'class A { u() { return 1 } } /* (#18213) */']) {
      expect(mayHavePrivateNames(text)).toBe(false);
    }
  });

  it('never says no for a class the parser finds private names in, over every class @nestjs/core and rxjs export', () => {
    const roots = ['@nestjs/core', '@nestjs/common', 'rxjs'];
    let checked = 0;
    let skipped = 0;
    for (const root of roots) {
      const mod = require(root) as Record<string, unknown>;
      for (const v of Object.values(mod)) {
        if (typeof v !== 'function' || !/^class\b/.test(Function.prototype.toString.call(v))) continue;
        const text = Function.prototype.toString.call(v);
        const quick = mayHavePrivateNames(text);
        if (quick) skipped++;
        else expect(analyzeFunction(v as Function).hasPrivate).toBe(false);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(50);
    // Most framework classes are answered without parsing (the point of the check).
    expect(skipped).toBeLessThan(checked / 2);
  });

  it('finds the private names of a real package that has them', () => {
    const dir = path.dirname(require.resolve('lru-cache'));
    expect(fs.existsSync(dir)).toBe(true);
    const { LRUCache } = require('lru-cache') as { LRUCache: Function };
    const text = Function.prototype.toString.call(LRUCache);
    expect(mayHavePrivateNames(text)).toBe(true);
    expect(analyzeFunction(LRUCache).hasPrivate).toBe(true);
  });
});
