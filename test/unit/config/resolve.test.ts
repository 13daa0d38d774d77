import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { validateText } from '../../../src/config/load.js';
import { resolveConfig, applyTemplates } from '../../../src/config/resolve.js';
import { DEFAULTS } from '../../../src/config/model.js';
import { GOOD } from '../../helpers/config-fixtures.js';

function resolveFixture(name: string) {
  const file = path.join(GOOD, name);
  const r = validateText(readFileSync(file, 'utf8'), file);
  assert.deepEqual(r.issues, []);
  return resolveConfig(r.input!, file);
}

test('dvr disk_headroom: a size on the stream wins over its storage default; none when neither sets it', () => {
  const c = resolveConfig(
    {
      dvr: { main: { path: '/srv/dvr', disk_headroom: '1G' } },
      streams: {
        a: { inputs: [{ url: 'publish://' }], dvr: { storage: 'main', disk_headroom: '64K' } },
        b: { inputs: [{ url: 'publish://' }], dvr: { storage: 'main' } },
        c: { inputs: [{ url: 'publish://' }], dvr: { path: '/srv/c' } },
      },
    },
    '/etc/flux/flux.yaml',
  );
  assert.equal(c.streams.a!.dvr!.diskHeadroomBytes, 64 * 1024);
  assert.equal(c.streams.b!.dvr!.diskHeadroomBytes, 1024 ** 3);
  assert.equal(c.streams.c!.dvr!.diskHeadroomBytes, undefined);
});

test('defaults: ports, dirs relative to the config file, hls, audio', () => {
  const c = resolveFixture('minimal.yaml');
  assert.equal(c.server.http, DEFAULTS.http);
  assert.equal(c.server.rtmp, DEFAULTS.rtmp);
  assert.equal(c.server.srt, false);
  assert.equal(c.server.dataDir, path.join(GOOD, 'data'));
  assert.equal(c.server.runDir, path.join(GOOD, 'run'));
  const demo = c.streams.demo!;
  assert.equal(demo.root, path.join(GOOD, 'data', 'demo'));
  assert.deepEqual(demo.hls, { segmentDurationMs: 2000, window: 6 });
  assert.deepEqual(demo.renditions, ['v1a1']);
  assert.equal(demo.inputs[0]!.sourceTimeoutMs, DEFAULTS.sourceTimeoutMs);
  assert.equal(c.auth.playDefault, 'deny');
  assert.equal(c.cluster, undefined);
});

test('units are normalized, templates applied by prefix, storages and inputs resolved', () => {
  const c = resolveFixture('full.yaml');
  const door = c.streams['cams/door']!;
  // template "cams" (prefix list) applies dvr on storage main with its own retention, hls and auth
  assert.equal(door.dvr!.root, '/srv/dvr/cams/door');
  assert.equal(door.dvr!.retentionMs, 86_400_000);
  assert.equal(door.dvr!.maxSizeBytes, 2 * 1024 ** 4); // from the storage
  assert.equal(door.dvr!.diskUsageLimitPercent, 90);
  assert.equal(door.dvr!.diskHeadroomBytes, 512 * 1024 ** 2); // disk_headroom from the storage
  assert.equal(door.root, '/srv/dvr/cams/door');
  assert.deepEqual(door.hls, { segmentDurationMs: 4000, window: 5 });
  assert.deepEqual(door.auth.allowIps, ['10.0.0.0/8', '2001:db8::/32']);
  assert.equal(door.inputs[0]!.rtspTransport, 'tcp');
  assert.equal(door.inputs[1]!.srtMode, 'caller');
  assert.equal(door.inputs[1]!.srtLatencyMs, 200);
  assert.equal(c.streams['cctv/yard']!.dvr!.root, '/srv/dvr/cctv/yard');

  const ch = c.streams.channel1!;
  assert.deepEqual(ch.inputs.map((i) => [i.scheme, i.priority]), [['udp', 1], ['udp', 2], ['srt', 3], ['file', 53]]);
  assert.equal(ch.inputs[2]!.srtMode, 'listener');
  assert.equal(ch.inputs[3]!.sourceTimeoutMs, 10_000);
  assert.equal(ch.inputs[3]!.returnAfterMs, 30_000);
  const tr = ch.transcoder!;
  assert.equal(tr.hw, 'nvenc');
  assert.equal(tr.fallback, 'cpu');
  assert.deepEqual(tr.video.map((v) => [v.name, v.codec, v.bitrate, v.width, v.height]), [['fhd', 'h265', 6_000_000, 1920, 1080], ['v2', 'h264', 2_500_000, -2, 720]]);
  assert.equal(tr.video[0]!.gopMs, 2000);
  assert.equal(tr.video[0]!.bufsize, 12_000_000, "bufsize is a bitrate (bits), as ffmpeg takes it");
  assert.equal(tr.audio.bitrate, 160_000);
  assert.equal(tr.logo!.path, path.join(GOOD, 'logo.png'));
  assert.deepEqual(ch.renditions, ['v1a1', 'v2a1']);
  assert.equal(ch.dvr!.retentionMs, 30 * 86_400_000);
  assert.deepEqual(ch.push.map((p) => [p.url, p.retryDelayMs]), [['rtmp://cdn.example.com/live/channel1', 2000], ['srt://cdn.example.com:9000?streamid=ch1', 5000]]);
  assert.equal(ch.auth.publishPassword, 'pw');

  assert.equal(c.streams.studio!.auth.publishPassword, 'change-me');
  assert.equal(c.streams.studio!.disabled, true);
  assert.equal(c.server.rtmp, false);
  assert.equal(c.server.srt, 9998);
  assert.deepEqual(c.auth.users.map((u) => u.role), ['admin', 'read']);
  assert.equal(c.auth.playBackendTimeoutMs, 2000);
  assert.equal(c.auth.playCacheMs, 60_000);
  assert.deepEqual(c.cluster, {
    etcd: ['http://127.0.0.1:2379', 'http://127.0.0.2:2379'],
    nodeName: 'node1',
    advertise: 'http://node1.example.com:8081',
    keyPrefix: '/flux/prod/',
    leaseTtlMs: 15_000,
    returnAfterMs: 20_000,
    clusterKey: 'shared-secret-1',
    maxBitrate: 10_000_000_000,
    username: 'flux',
    password: 'secret',
  });
});

test('the stream\'s own keys win over templates; later templates override earlier ones', () => {
  const cfg = {
    templates: {
      all: { prefix: 'cams/', hls: { segment_duration: '4s', window: 4 }, title: 'from all' },
      door: { prefix: 'cams/door', hls: { window: 8 } },
    },
    streams: { 'cams/door': { inputs: [{ url: 'fake://x' }], title: 'own' } },
  };
  const merged = applyTemplates(cfg, 'cams/door', cfg.streams['cams/door']);
  assert.equal(merged.title, 'own');
  assert.deepEqual(merged.hls, { segment_duration: '4s', window: 8 });
  const c = resolveConfig(cfg);
  assert.deepEqual(c.streams['cams/door']!.hls, { segmentDurationMs: 4000, window: 8 });
});

test('backup inputs come after primaries; publish password falls back to auth.publish_password', () => {
  const c = resolveConfig({
    auth: { publish_password: 'global' },
    streams: {
      a: { inputs: [{ url: 'fake://b', backup: true }, { url: 'publish://' }, { url: 'udp://239.0.0.1:1' }] },
      b: { inputs: [{ url: 'srt://:9000' }, { url: 'srt://h:9000?mode=rendezvous' }] },
    },
  });
  assert.deepEqual(c.streams.a!.inputs.map((i) => i.url), ['publish://', 'udp://239.0.0.1:1', 'fake://b']);
  assert.equal(c.streams.a!.auth.publishPassword, 'global');
  assert.deepEqual(c.streams.b!.inputs.map((i) => i.srtMode), ['listener', 'rendezvous']);
});
