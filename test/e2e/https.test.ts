/**
 * HTTPS (server.https) on a real node with an openssl-made certificate: curl plays HLS and uses
 * the API over TLS, plain HTTP redirects (308) or is off, headless Chromium plays the stream with
 * hls.js over HTTPS, a replaced certificate is served without a restart, a bad pair is refused at
 * start with a clear message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { launchChromium } from '../helpers/browser.js';
import { fakeStream, freePort, publishStream, runCli, startNode, tempDir, waitFor, writeConfig } from '../helpers/index.js';

const run = promisify(execFile);

async function makeCert(dir: string, name: string, cn: string): Promise<{ cert: string; key: string }> {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${cn}`,
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost']);
  return { cert, key };
}

function peerFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const fp = s.getPeerCertificate().fingerprint256;
      s.end();
      resolve(fp);
    });
    s.on('error', reject);
  });
}

async function curl(args: string[]): Promise<string> {
  const { stdout } = await run('curl', ['-sS', '--max-time', '10', ...args]);
  return stdout;
}

test('HTTPS: curl plays HLS and uses the API; HTTP redirects; Chromium plays via hls.js; certificate reloaded', { timeout: 180_000 }, async (t) => {
  const dir = await tempDir(t);
  const certs = path.join(dir, 'certs');
  await mkdir(certs);
  const first = await makeCert(certs, 'site', 'flux-one');
  const httpsPort = await freePort();
  const node = await startNode(t, {
    dir,
    server: { https: { port: httpsPort, cert: 'certs/site.crt', key: 'certs/site.key', http_mode: 'redirect' } },
    streams: { live: fakeStream() },
  });
  const base = `https://127.0.0.1:${httpsPort}`;
  const ca = ['--cacert', first.cert];

  // HLS over TLS, verified against the test certificate
  const master = await waitFor(async () => {
    const out = await curl([...ca, '-w', '\n%{http_code}', `${base}/live/index.m3u8`]).catch(() => '');
    return out.endsWith('\n200') ? out : undefined;
  }, { timeoutMs: 30_000, message: 'master playlist over https' });
  assert.match(master, /^#EXTM3U/);
  const media = await curl([...ca, `${base}/live/tracks-v1a1/index.m3u8`]);
  const seg = media.split('\n').find((l) => l && !l.startsWith('#'))!;
  const code = await curl([...ca, '-o', '/dev/null', '-w', '%{http_code} %{content_type}', `${base}/live/tracks-v1a1/${seg}`]);
  assert.equal(code, '200 video/mp2t');
  // the API over TLS
  const api = JSON.parse(await curl([...ca, `${base}/api/v3/streams`])) as { estimated_count: number };
  assert.equal(api.estimated_count, 1);

  // plain HTTP redirects to HTTPS, path and query kept
  const redirect = await curl(['-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', `${node.baseUrl}/live/index.m3u8?x=1`]);
  assert.equal(redirect, `308 https://127.0.0.1:${httpsPort}/live/index.m3u8?x=1`);
  const info = await node.info() as unknown as { https: { port: number; http_mode: string } };
  assert.equal(info.https.port, httpsPort);
  assert.equal(info.https.http_mode, 'redirect');

  // Chromium plays the stream with hls.js over HTTPS
  const browser = await launchChromium(t);
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 320, height: 240 } });
  const page = await context.newPage();
  const failed: string[] = [];
  page.on('response', (r) => {
    if (r.status() >= 400 && !/favicon/.test(r.url())) failed.push(`${r.status()} ${r.url()}`);
  });
  await page.goto(`${base}/live/embed.html`);
  const state = await waitFor(async () => {
    const s = (await page.evaluate(`(() => { const p = window.fluxPlayer; return { t: p.video.currentTime, fatal: p.fatal, secure: location.protocol }; })()`)) as { t: number; fatal: string | null; secure: string };
    if (s.fatal) throw new Error(`player failed: ${s.fatal}`);
    return s.t > 3 ? s : undefined;
  }, { timeoutMs: 40_000, intervalMs: 250, message: 'Chromium playing past 3 s over https' });
  assert.equal(state.secure, 'https:');
  assert.deepEqual(failed, []);
  await context.close();

  // a renewed certificate replaces the files (rename): new connections get it, no restart
  const before = await peerFingerprint(httpsPort);
  const second = await makeCert(dir, 'renewed', 'flux-two');
  await rename(second.key, path.join(certs, 'site.key'));
  await rename(second.cert, path.join(certs, 'site.crt'));
  await waitFor(async () => (await peerFingerprint(httpsPort)) !== before, { timeoutMs: 15_000, message: 'the new certificate served' });
  const again = await curl(['--cacert', path.join(certs, 'site.crt'), '-o', '/dev/null', '-w', '%{http_code}', `${base}/live/index.m3u8`]);
  assert.equal(again, '200');
});

test('HTTPS with plain HTTP off; a certificate that does not load stops the start with a clear message', { timeout: 90_000 }, async (t) => {
  const dir = await tempDir(t);
  const pair = await makeCert(dir, 'c', 'flux-off');
  const httpsPort = await freePort();
  const node = await startNode(t, { dir, server: { https: { port: httpsPort, cert: pair.cert, key: pair.key, http_mode: 'off' } }, streams: { a: publishStream() } });
  const api = await curl(['--cacert', pair.cert, '-w', '\n%{http_code}', `https://127.0.0.1:${httpsPort}/api/v3/streams`]);
  assert.match(api, /\n200$/);
  await assert.rejects(curl([`${node.baseUrl}/api/v3/streams`]), 'nothing listens on the HTTP port');

  const bad = await tempDir(t);
  const other = await makeCert(bad, 'x', 'flux-bad');
  const y = await makeCert(bad, 'y', 'flux-bad2');
  const { configFile } = await writeConfig({ dir: bad, server: { https: { port: await freePort(), cert: other.cert, key: y.key } }, streams: {} });
  const r = await runCli(['node', 'start', '--config', configFile], { cwd: bad, timeoutMs: 30_000 });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /server\.https: cannot load .*x\.crt/);
});
