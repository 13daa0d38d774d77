/**
 * The web admin page in headless Chromium against a real node with API users: /admin/ (and
 * /metrics) refuse without credentials; with them the page lists the streams with their state,
 * shows the events feed live (a reload appears without a page refresh), opens a stream's input
 * monitor and plays it (hls.js). A screenshot goes to test-artifacts/admin-page.png.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { launchChromium } from '../helpers/browser.js';
import { hashPassword } from '../../src/auth/password.js';
import { REPO_ROOT, fakeStream, http, publishStream, startNode, tempDir, waitFor } from '../helpers/index.js';

const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts');

test('admin page: auth, streams, live events, input monitor, player', { timeout: 150_000 }, async (t) => {
  const dir = await tempDir(t);
  const hash = await hashPassword('s3cret', { N: 1024 });
  const node = await startNode(t, {
    dir,
    env: { FLUX_STATUS_POLL_MS: '500' },
    streams: { alpha: fakeStream(), 'cams/door': publishStream() },
    extra: { auth: { users: [{ name: 'admin', password_hash: hash }] } },
  });
  await waitFor(async () => (await node.stream('alpha')).stats.alive, { timeoutMs: 30_000, message: 'alpha alive' });

  // behind the API guard
  assert.equal((await http(`${node.baseUrl}/admin/`)).status, 401);
  assert.equal((await http(`${node.baseUrl}/metrics`)).status, 401);
  assert.equal((await http(`${node.baseUrl}/admin/api/v3/node`)).status, 401);
  assert.equal((await http(`${node.baseUrl}/admin/`, { user: 'admin', password: 'wrong' })).status, 401);
  const index = await http(`${node.baseUrl}/admin/`, { user: 'admin', password: 's3cret' });
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-type') ?? '', /text\/html/);
  assert.equal((await http(`${node.baseUrl}/admin/flux.yaml`, { user: 'admin', password: 's3cret' })).status, 404);
  assert.equal((await http(`${node.baseUrl}/admin`, { user: 'admin', password: 's3cret' })).status, 200, 'redirected to /admin/');
  assert.equal((await http(`${node.baseUrl}/metrics`, { user: 'admin', password: 's3cret' })).status, 200);
  // a change through the admin API needs the page's header (a cross-site form cannot set it)
  assert.equal((await http(`${node.baseUrl}/admin/api/v3/streams/alpha/restart`, { method: 'POST', user: 'admin', password: 's3cret' })).status, 403);

  const browser = await launchChromium(t);
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 720 }, httpCredentials: { username: 'admin', password: 's3cret' } });
  const page = await ctx.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  try {
    await page.goto(`${node.baseUrl}/admin/`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });
    await page.waitForSelector('#streams tr[data-name="alpha"] td.state.running', { timeout: 15_000 });
    assert.match(await page.locator('#streams tr[data-name="cams/door"] td.state').innerText(), /running|waiting|starting/);
    assert.match(await page.locator('#node').innerText(), /^node \S+ · flux /);
    await page.waitForSelector('#events li[data-event="stream_started"]', { timeout: 15_000 });

    // the feed is live: a reload shows up without reloading the page
    assert.equal((await node.api('POST', '/api/v3/config/reload')).status, 200);
    await page.waitForSelector('#events li[data-event="config_reloaded"]', { timeout: 10_000 });

    // a stream's input monitor and player
    await page.click('#streams tr[data-name="alpha"]');
    await page.waitForSelector('#inputs tbody tr td.state.active', { timeout: 10_000 });
    assert.match(await page.locator('#inputs tbody tr').first().innerText(), /fake:\/\/testsrc/);
    await waitFor(async () => ((await page.evaluate(`document.querySelector('#player').currentTime`)) as number) > 1, { timeoutMs: 30_000, message: 'the player plays' });
    // playing counts a client
    await waitFor(async () => (await node.stream('alpha')).stats.online_clients === 1, { timeoutMs: 10_000, message: 'online_clients 1' });
    // the page's restart button goes through
    await page.click('#restart');
    await waitFor(async () => (await page.locator('#detail-msg').innerText()) === 'restarted', { timeoutMs: 10_000, message: 'restart from the page' });
  } finally {
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'admin-page.png') });
  }
  assert.deepEqual(pageErrors, []);
  const ev = await node.cli(['events', '--json', '--stream', 'alpha']);
  assert.match(ev.stdout, /"event":"play_opened"/);
});
