// The two catalogues must say the same things: the same keys, the same placeholders, and
// every key the code refers to present in both.
import { describe, expect, it } from 'vitest';
import en from './en.json';
import zhCN from './zh-CN.json';

type Catalogue = Record<string, unknown>;

// Leaves that are not strings flatten to '' so that the non-empty check reports them.
function flatten(catalogue: Catalogue, prefix = ''): Map<string, string> {
  const entries = new Map<string, string>();
  for (const [key, value] of Object.entries(catalogue)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (typeof value === 'object' && value !== null) {
      for (const [inner, leaf] of flatten(value as Catalogue, path)) entries.set(inner, leaf);
    } else {
      entries.set(path, typeof value === 'string' ? value : '');
    }
  }
  return entries;
}

function placeholders(text: string): string[] {
  return [...text.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((match) => match[1] ?? '').sort();
}

const catalogues = { en: flatten(en), 'zh-CN': flatten(zhCN) };

// Every source file except tests, read as text at build time by Vite.
const sources = import.meta.glob<string>(['../**/*.{ts,tsx}', '!../**/*.test.{ts,tsx}'], {
  query: '?raw',
  import: 'default',
  eager: true,
});

describe('translation catalogues', () => {
  it('have exactly the same keys', () => {
    const enKeys = [...catalogues.en.keys()].sort();
    const zhKeys = [...catalogues['zh-CN'].keys()].sort();
    expect(zhKeys).toEqual(enKeys);
  });

  it.each(Object.entries(catalogues))('%s has a non-empty sentence for every key', (_, entries) => {
    const empty = [...entries].filter(([, text]) => text.trim() === '');
    expect(empty).toEqual([]);
  });

  it('use the same placeholders in both languages', () => {
    const mismatched = [...catalogues.en].flatMap(([key, text]) => {
      const english = placeholders(text);
      const chinese = placeholders(catalogues['zh-CN'].get(key) ?? '');
      return english.join() === chinese.join() ? [] : [{ key, english, chinese }];
    });
    expect(mismatched).toEqual([]);
  });

  it('contain every key the code refers to', () => {
    // A key is any quoted string that starts with one of the catalogue's top-level sections.
    const sections = Object.keys(en).join('|');
    const keyLiteral = new RegExp(`['"]((?:${sections})\\.[A-Za-z0-9_.-]+)['"]`, 'g');
    const used = new Set<string>();
    for (const text of Object.values(sources)) {
      for (const match of text.matchAll(keyLiteral)) used.add(match[1] ?? '');
    }
    // Guards the scan itself: if it found nothing, the test would pass vacuously.
    expect(used.size).toBeGreaterThan(10);
    const missing = [...used].filter(
      (key) => !catalogues.en.has(key) || !catalogues['zh-CN'].has(key),
    );
    expect(missing).toEqual([]);
  });
});
