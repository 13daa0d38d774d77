import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parse, parseDocument, isMap, isSeq, isPair, isScalar, type Node as YamlNode } from 'yaml';
import { ConfigSchema, StreamSchema, configJsonSchema, INPUT_SCHEMES } from '../../../src/config/schema.js';
import { validateText } from '../../../src/config/load.js';
import { GOOD, TEMPLATE } from '../../helpers/config-fixtures.js';

test('every good fixture parses with the schema', () => {
  const files = readdirSync(GOOD).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.length >= 4);
  for (const f of files) {
    const data = parse(readFileSync(path.join(GOOD, f), 'utf8')) ?? {};
    const r = ConfigSchema.safeParse(data);
    assert.ok(r.success, `${f}: ${JSON.stringify(r.error?.issues)}`);
  }
});

test('the schema rejects unknown keys at every level (strict objects)', () => {
  const bad = [
    { serverx: {} },
    { server: { htp: 1 } },
    { streams: { a: { inputs: [{ url: 'fake://x', colour: 1 }] } } },
    { streams: { a: { inputs: [{ url: 'fake://x' }], transcoder: { video: [{ bitrate: '1M', sise: '1x1' }] } } } },
    { dvr: { main: { path: '/x', keep: '1d' } } },
    { auth: { userz: [] } },
    { cluster: { etcd: ['http://x:2379'], ttl: 1 } },
  ];
  for (const b of bad) {
    const r = ConfigSchema.safeParse(b);
    assert.equal(r.success, false, JSON.stringify(b));
    assert.ok(r.error!.issues.some((i) => i.code === 'unrecognized_keys'), JSON.stringify(r.error!.issues));
  }
});

test('units are checked by the schema (junk rejected, forms accepted)', () => {
  const s = (hls: unknown) => StreamSchema.safeParse({ inputs: [{ url: 'fake://x' }], hls });
  assert.ok(s({ segment_duration: '2s' }).success);
  assert.ok(s({ segment_duration: 4 }).success);
  const r = s({ segment_duration: 'soon' });
  assert.equal(r.success, false);
  assert.match(r.error!.issues[0]!.message, /invalid duration "soon"/);
  assert.equal(StreamSchema.safeParse({ inputs: [{ url: 'fake://x' }], dvr: { max_size: '5X' } }).success, false);
  assert.equal(StreamSchema.safeParse({ inputs: [{ url: 'fake://x' }], transcoder: { video: [{ bitrate: 'fast' }] } }).success, false);
});

test('inputs are required and non-empty; server ports are 1..65535 or false for rtmp/srt', () => {
  assert.equal(StreamSchema.safeParse({}).success, false);
  assert.equal(StreamSchema.safeParse({ inputs: [] }).success, false);
  assert.ok(ConfigSchema.safeParse({ server: { rtmp: false, srt: false, http: 1 } }).success);
  assert.equal(ConfigSchema.safeParse({ server: { http: false } }).success, false);
  assert.equal(ConfigSchema.safeParse({ server: { http: 65536 } }).success, false);
  assert.equal(ConfigSchema.safeParse({ server: { rtmp: 0 } }).success, false);
});

test('mission coverage: per-input options, play auth, cluster', () => {
  const cfg = {
    streams: {
      a: {
        inputs: [
          { url: 'srt://:9000', srt_mode: 'listener', srt_latency: '120ms', connect_timeout: '2s' },
          { url: 'http://x/y.m3u8', headers: { 'X-Key': 'v' }, user_agent: 'ua' },
          { url: 'udp://239.0.0.1:1234', interface: '10.0.0.1', multicast_source: '10.0.0.9', program: 3 },
        ],
        auth: { play_token: true, play_backend: 'https://auth.example.com/check', allow_ips: ['10.0.0.0/8'], deny_ips: ['::1'] },
      },
    },
    auth: { play_backend: 'http://127.0.0.1:9000', play_backend_timeout: '2s', play_cache: '30s', play_default: 'allow', allow_ips: ['0.0.0.0/0'] },
    cluster: { etcd: ['http://127.0.0.1:2379'], node_name: 'n1', advertise: 'http://n1:8080', key_prefix: '/flux/', lease_ttl: '10s' },
    events: { sinks: [{ url: 'http://127.0.0.1:9000/hook', only: ['source_lost', 'source_switched'], except: ['play_opened'] }] },
  };
  const r = ConfigSchema.safeParse(cfg);
  assert.ok(r.success, JSON.stringify(r.error?.issues));
  assert.equal(ConfigSchema.safeParse({ auth: { allow_ips: ['10.0.0.0/33'] } }).success, false);
  assert.equal(ConfigSchema.safeParse({ auth: { play_backend: 'ftp://x' } }).success, false);
  assert.equal(ConfigSchema.safeParse({ cluster: { etcd: [] } }).success, false);
  assert.equal(ConfigSchema.safeParse({ events: { sinks: [{ url: 'ftp://x' }] } }).success, false);
  assert.equal(ConfigSchema.safeParse({ events: { sinks: [{ url: 'http://x', only: ['stream_exploded'] }] } }).success, false);
});

test('JSON Schema: draft 2020-12, strict objects, a description on every property', () => {
  const js = configJsonSchema();
  assert.equal(js.$schema, 'https://json-schema.org/draft/2020-12/schema');
  assert.equal(js.type, 'object');
  assert.equal(js.additionalProperties, false);
  const props = js.properties as Record<string, unknown>;
  assert.deepEqual(Object.keys(props).sort(), ['auth', 'cluster', 'dvr', 'events', 'server', 'streams', 'templates', 'vod', 'webrtc']);
  // walk every object's properties: each must carry a description (editor hover text)
  const missing: string[] = [];
  const walk = (node: unknown, p: string) => {
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    if (n.properties && typeof n.properties === 'object') {
      for (const [k, v] of Object.entries(n.properties as Record<string, Record<string, unknown>>)) {
        if (!v.description && !(v.anyOf && (v.anyOf as Record<string, unknown>[]).every((o) => o.description))) missing.push(`${p}.${k}`);
        walk(v, `${p}.${k}`);
      }
    }
    for (const key of ['items', 'additionalProperties']) if (n[key] && typeof n[key] === 'object') walk(n[key], `${p}[]`);
    for (const key of ['anyOf', 'oneOf', 'allOf']) if (Array.isArray(n[key])) (n[key] as unknown[]).forEach((o) => walk(o, p));
  };
  walk(js, '');
  assert.deepEqual(missing, []);
  // input inside a stream: input URL description lists the schemes
  const inputUrl = JSON.stringify(js).includes('source URL: publish://');
  assert.ok(inputUrl);
  assert.ok(INPUT_SCHEMES.includes('publish'));
});

test('the sample flux.yaml: schema line first, validates, a comment on every key', () => {
  const text = readFileSync(TEMPLATE, 'utf8');
  assert.match(text.split('\n')[0]!, /^# yaml-language-server: \$schema=\S+$/);
  const r = validateText(text, TEMPLATE);
  assert.deepEqual(r.issues, []);
  assert.ok(Object.keys(r.input?.streams ?? {}).length >= 2);

  assert.deepEqual(uncommentedKeys(text), []);
  // the check itself catches a key without a comment
  assert.deepEqual(uncommentedKeys('# server\nserver:\n  http: 8080\n  # rtmp\n  rtmp: 1935\n'), ['server.http (line 3)']);
});


/** Keys (at any depth) without a comment on their line or on the line right above (blank lines skipped). */
function uncommentedKeys(text: string): string[] {
  const lines = text.split('\n');
  const lineOf = (offset: number) => text.slice(0, offset).split('\n').length - 1;
  const out: string[] = [];
  const hasComment = (l: number) => {
    if (/\s#/.test(lines[l]!.replace(/"[^"]*"|'[^']*'/g, ''))) return true;
    let prev = l - 1;
    while (prev >= 0 && lines[prev]!.trim() === '') prev--;
    return prev >= 0 && lines[prev]!.trim().startsWith('#');
  };
  const walk = (node: unknown, p: string) => {
    if (isMap(node)) {
      for (const it of node.items) {
        if (!isPair(it) || !isScalar(it.key)) continue;
        const name = `${p}${String(it.key.value)}`;
        const l = lineOf((it.key as YamlNode).range![0]);
        if (!hasComment(l)) out.push(`${name} (line ${l + 1})`);
        walk(it.value, `${name}.`);
      }
    } else if (isSeq(node)) node.items.forEach((x, i) => walk(x, `${p}${i}.`));
  };
  walk(parseDocument(text).contents, '');
  return out;
}
