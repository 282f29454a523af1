import { describe, expect, it } from 'vitest';
import { markPlatform } from './platform';

// User agents as the web views send them.
const LINUX =
  'Mozilla/5.0 (X11; Ubuntu; Linux x86_64) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15';
const MAC =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)';
const WINDOWS =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0';

describe('markPlatform', () => {
  it('marks Linux, whose font stack is the short one', () => {
    const root = document.createElement('html');
    markPlatform(root, LINUX);
    expect(root).toHaveAttribute('data-os', 'linux');
  });

  it('leaves macOS and Windows on the default styles', () => {
    for (const agent of [MAC, WINDOWS]) {
      const root = document.createElement('html');
      root.setAttribute('data-os', 'linux');
      markPlatform(root, agent);
      expect(root).not.toHaveAttribute('data-os');
    }
  });
});
