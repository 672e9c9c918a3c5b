// Renders media/icon.svg into media/icon.png (128×128, transparent corners), the icon package.json
// names for the Marketplace, with the headless Chromium the e2e tests use (scripts/e2e-setup.mjs).
// Run after changing the SVG: `node scripts/render-icon.mjs`, and commit both files.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM } from './e2e-setup.mjs';

const media = join(import.meta.dirname, '..', 'media');
const svg = readFileSync(join(media, 'icon.svg'), 'utf8');
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
try {
  const page = await browser.newPage({ viewport: { width: 128, height: 128 }, deviceScaleFactor: 1 });
  await page.setContent(`<html><body style="margin:0;background:transparent">${svg}</body></html>`);
  await page.locator('svg').screenshot({ path: join(media, 'icon.png'), omitBackground: true });
} finally {
  await browser.close();
}
console.log('media/icon.png written');
