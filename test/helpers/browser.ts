/**
 * Headless Chromium for the browser tests and benches: the system Chromium (playwright-core drives
 * it; `npx playwright install` cannot download here) with the flags every test needs, closed by the
 * test's after hook. Each launch gets a fresh temporary profile of playwright's own (it refuses
 * --user-data-dir in `args`: it manages that directory and removes it on close).
 */
import { createRequire } from 'node:module';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.FLUX_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'];
export const DASHJS = createRequire(import.meta.url).resolve('dashjs');

/** Launch Chromium; `owner.after` (a test context) closes it. Extra flags (fake camera…) appended. */
export async function launchChromium(owner: { after(fn: () => unknown): void } | undefined, extraArgs: string[] = []): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, ...extraArgs] });
  owner?.after(() => browser.close());
  return browser;
}

/** Start dash.js on `page` (already on a same-origin page) playing `mpd` into a muted <video>. */
export async function startDashPlayer(page: Page, mpd: string): Promise<void> {
  await page.addScriptTag({ path: DASHJS });
  await page.evaluate(`(() => {
    const v = document.createElement('video');
    v.muted = true;
    document.body.appendChild(v);
    window.dashErrors = [];
    const p = dashjs.MediaPlayer().create();
    p.on('error', (e) => window.dashErrors.push(JSON.stringify(e.error || e)));
    p.initialize(v, ${JSON.stringify(mpd)}, true);
    window.dashVideo = v;
  })()`);
}

/** The dash.js player's position; throws when dash.js reported an error. */
export async function dashPosition(page: Page): Promise<number> {
  const s = (await page.evaluate('({ t: window.dashVideo.currentTime, errors: window.dashErrors })')) as { t: number; errors: string[] };
  if (s.errors.length > 0) throw new Error(`dash.js errors: ${s.errors.join('; ')}`);
  return s.t;
}
