import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat, writeFile, copyFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  addStreamToDocument,
  editConfigFile,
  parseForEdit,
  removeStreamFromDocument,
  renderEdited,
  setStreamInDocument,
} from '../../../src/config/edit.js';
import { ConfigError, InputError } from '../../../src/core/errors.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const COMMENTED = path.join(here, '../../fixtures/config/commented.yaml');

async function tempCopy(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'flux-edit-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'flux.yaml');
  await copyFile(COMMENTED, file);
  return file;
}

const door = { inputs: [{ url: 'rtsp://cam.local/door', rtsp_transport: 'tcp' as const }], dvr: { storage: 'main', retention: '3d' } };

test('add then remove through editConfigFile gives the original file back byte for byte', async (t) => {
  const file = await tempCopy(t);
  const original = await readFile(file, 'utf8');
  const added = await editConfigFile(file, (doc) => addStreamToDocument(doc, 'cams/door', door));
  assert.ok(added.resolved.streams['cams/door']);
  assert.equal(added.resolved.streams['cams/door']!.inputs[0]!.rtspTransport, 'tcp');
  const afterAdd = await readFile(file, 'utf8');
  // everything that was there is still there, in order, byte for byte; only new lines were inserted
  const insertedAt = afterAdd.indexOf('  cams/door:\n');
  assert.ok(insertedAt > 0, afterAdd);
  const inserted = afterAdd.length - original.length;
  assert.equal(afterAdd.slice(0, insertedAt) + afterAdd.slice(insertedAt + inserted), original);
  assert.match(afterAdd.slice(insertedAt, insertedAt + inserted), /^ {2}cams\/door:\n {4}inputs:\n {6}- url: rtsp:\/\/cam.local\/door\n/);

  const removed = await editConfigFile(file, (doc) => removeStreamFromDocument(doc, 'cams/door'));
  assert.equal(removed.resolved.streams['cams/door'], undefined);
  assert.equal(await readFile(file, 'utf8'), original);
});

test('removing an existing stream removes its lines and the comment right above it, nothing else', () => {
  const text = `streams:
  # first
  a:
    inputs:
      - url: fake://testsrc?freq=101
  # about b
  b:
    inputs:
      - url: fake://testsrc?freq=102   # b's url
    # inside b
  c:
    inputs: [{url: "fake://testsrc?freq=103"}]
# tail
`;
  const doc = parseForEdit(text);
  removeStreamFromDocument(doc, 'b');
  assert.equal(
    renderEdited(doc, text),
    `streams:
  # first
  a:
    inputs:
      - url: fake://testsrc?freq=101
  c:
    inputs: [{url: "fake://testsrc?freq=103"}]
# tail
`,
  );
});

test('replacing a stream (set) keeps the comment above it and the rest of the file', () => {
  const text = `server:
  http: 8081   # port
streams:
  # primary
  a:
    inputs:
      - url: fake://testsrc?freq=101
  b:
    inputs:
      - url: fake://testsrc?freq=102
`;
  const doc = parseForEdit(text);
  setStreamInDocument(doc, 'a', { inputs: [{ url: 'udp://239.1.1.1:5000' }], hls: { window: 4 } });
  assert.equal(
    renderEdited(doc, text),
    `server:
  http: 8081   # port
streams:
  # primary
  a:
    inputs:
      - url: udp://239.1.1.1:5000
    hls:
      window: 4
  b:
    inputs:
      - url: fake://testsrc?freq=102
`,
  );
  // set on an absent name adds it
  setStreamInDocument(doc, 'c', { inputs: [{ url: 'fake://testsrc?freq=103' }] });
  assert.deepEqual(Object.keys(doc.toJS().streams), ['a', 'b', 'c']);
});

test('add creates the streams section when missing, empty, null or {}', () => {
  const cases: [string, string][] = [
    ['', 'streams:\n  n:\n    inputs:\n      - url: fake://testsrc?freq=104\n'],
    ['# just a comment\n', '# just a comment\nstreams:\n  n:\n    inputs:\n      - url: fake://testsrc?freq=104\n'],
    ['server:\n  http: 1234', 'server:\n  http: 1234\nstreams:\n  n:\n    inputs:\n      - url: fake://testsrc?freq=104\n'],
    ['streams:\nserver: {}\n', 'streams:\n  n:\n    inputs:\n      - url: fake://testsrc?freq=104\nserver: {}\n'],
    ['streams: {}  # none yet\n', 'streams:\n  n:\n    inputs:\n      - url: fake://testsrc?freq=104  # none yet\n'],
  ];
  for (const [src, want] of cases) {
    const doc = parseForEdit(src);
    addStreamToDocument(doc, 'n', { inputs: [{ url: 'fake://testsrc?freq=104' }] });
    assert.equal(renderEdited(doc, src), want, JSON.stringify(src));
  }
});

test('indentation of an existing streams map is followed', () => {
  const text = 'streams:\n    a:\n        inputs:\n            - url: fake://testsrc?freq=101\n';
  const doc = parseForEdit(text);
  addStreamToDocument(doc, 'b', { inputs: [{ url: 'fake://testsrc?freq=102' }] });
  const out = renderEdited(doc, text);
  assert.equal(out, text + '    b:\n        inputs:\n            - url: fake://testsrc?freq=102\n');
});

test('names that need quoting are quoted', () => {
  const doc = parseForEdit('streams: {}\n');
  addStreamToDocument(doc, '123', { inputs: [{ url: 'fake://testsrc?freq=104' }] });
  addStreamToDocument(doc, 'yes', { inputs: [{ url: 'fake://testsrc?freq=104' }] });
  const out = renderEdited(doc, 'streams: {}\n');
  assert.deepEqual(Object.keys(parseForEdit(out).toJS().streams), ['123', 'yes']);
});

test('add of an existing name, remove of a missing one and unsafe names throw InputError with codes', () => {
  const doc = parseForEdit('streams:\n  a:\n    inputs: [{url: "fake://testsrc?freq=101"}]\n');
  assert.throws(() => addStreamToDocument(doc, 'a', { inputs: [{ url: 'fake://x' }] }), (e: unknown) => e instanceof InputError && e.code === 'E_EXISTS');
  assert.throws(() => removeStreamFromDocument(doc, 'zz'), (e: unknown) => e instanceof InputError && e.code === 'E_NOT_FOUND');
  assert.throws(() => removeStreamFromDocument(parseForEdit(''), 'zz'), (e: unknown) => e instanceof InputError && e.code === 'E_NOT_FOUND');
  for (const bad of ['../etc', '/abs', 'a//b', 'a\u0001b', '']) {
    assert.throws(() => addStreamToDocument(doc, bad, { inputs: [{ url: 'fake://x' }] }), (e: unknown) => e instanceof InputError && e.code === 'E_INVALID_NAME', bad);
  }
});

test('a flow-style streams map falls back to re-serialization and keeps the meaning', () => {
  const text = '# head\nstreams: {a: {inputs: [{url: "fake://testsrc?freq=101"}]}}\n';
  const doc = parseForEdit(text);
  addStreamToDocument(doc, 'b', { inputs: [{ url: 'fake://testsrc?freq=102' }] });
  const out = renderEdited(doc, text);
  assert.deepEqual(Object.keys(parseForEdit(out).toJS().streams), ['a', 'b']);
  assert.match(out, /# head/);
});

test('an edit that makes the config invalid throws ConfigError and leaves the file untouched', async (t) => {
  const file = await tempCopy(t);
  const before = await readFile(file, 'utf8');
  await assert.rejects(
    editConfigFile(file, (doc) => addStreamToDocument(doc, 'bad', { inputs: [{ url: 'gopher://x' }], dvr: { storage: 'nope' } })),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.ok(e.issues.some((i) => /unsupported input URL scheme "gopher"/.test(i.message)));
      assert.ok(e.issues.some((i) => /unknown dvr storage "nope"/.test(i.message)));
      assert.ok(e.issues.every((i) => i.file === file && i.line > 0));
      return true;
    },
  );
  assert.equal(await readFile(file, 'utf8'), before);
  assert.deepEqual((await readdir(path.dirname(file))).sort(), ['flux.yaml']);
});

test('errors thrown by the edit callback propagate and nothing is written', async (t) => {
  const file = await tempCopy(t);
  const before = await readFile(file, 'utf8');
  await assert.rejects(editConfigFile(file, (doc) => removeStreamFromDocument(doc, 'ghost')), (e: unknown) => e instanceof InputError && e.code === 'E_NOT_FOUND');
  assert.equal(await readFile(file, 'utf8'), before);
});

test('create: a missing file starts empty; without create a missing file is E_NOENT', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'flux-edit-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'new.yaml');
  await assert.rejects(editConfigFile(file, (doc) => addStreamToDocument(doc, 'a', { inputs: [{ url: 'fake://testsrc?freq=101' }] })), (e: unknown) => e instanceof InputError && e.code === 'E_NOENT');
  const r = await editConfigFile(file, (doc) => addStreamToDocument(doc, 'a', { inputs: [{ url: 'fake://testsrc?freq=101' }] }), { create: true });
  assert.equal(r.file, file);
  assert.deepEqual(Object.keys(r.resolved.streams), ['a']);
  assert.equal(await readFile(file, 'utf8'), 'streams:\n  a:\n    inputs:\n      - url: fake://testsrc?freq=101\n');
});

test('concurrent edits of one file in one process are serialized (none lost)', async (t) => {
  const file = await tempCopy(t);
  const names = ['s1', 's2', 's3', 's4', 's5'];
  await Promise.all(names.map((n) => editConfigFile(file, (doc) => addStreamToDocument(doc, n, { inputs: [{ url: `fake://slate?text=${n}` }] }))));
  const text = await readFile(file, 'utf8');
  for (const n of names) assert.match(text, new RegExp(`^  ${n}:$`, 'm'));
});

test('a YAML syntax error in the existing file is refused with its position', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'flux-edit-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'broken.yaml');
  await writeFile(file, 'streams:\n  a: [unclosed\n');
  await assert.rejects(editConfigFile(file, (doc) => addStreamToDocument(doc, 'b', { inputs: [{ url: 'fake://testsrc?freq=102' }] })), (e: unknown) => e instanceof ConfigError && e.issues[0]!.line >= 2);
  assert.equal(await readFile(file, 'utf8'), 'streams:\n  a: [unclosed\n');
});
