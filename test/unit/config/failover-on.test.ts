/** Input `failover_on`: the list form takes default thresholds, the object form its own; bad values are placed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateText } from '../../../src/config/load.js';
import { resolveConfig } from '../../../src/config/resolve.js';

const two = (fo: string) => `streams:\n  a:\n    inputs:\n      - url: udp://239.0.0.1:1234\n        failover_on: ${fo}\n      - url: fake://black?silence\n`;

test('failover_on: [black, frozen, silence, cc_errors] → defaults; { … } → given thresholds', () => {
  const list = validateText(two('[black, frozen, silence, cc_errors]'), 'f.yaml');
  assert.deepEqual(list.issues, []);
  assert.deepEqual(resolveConfig(list.input!, 'f.yaml').streams.a!.inputs[0]!.failoverOn, { blackMs: 5000, frozenMs: 5000, silenceMs: 10_000, ccErrors: { count: 20, windowMs: 10_000 } });
  const obj = validateText(two('{ black: 2s, frozen: 1500ms, silence: 1m, cc_errors: 5/2s }'), 'f.yaml');
  assert.deepEqual(obj.issues, []);
  const r = resolveConfig(obj.input!, 'f.yaml').streams.a!;
  assert.deepEqual(r.inputs[0]!.failoverOn, { blackMs: 2000, frozenMs: 1500, silenceMs: 60_000, ccErrors: { count: 5, windowMs: 2000 } });
  assert.equal(r.inputs[1]!.failoverOn, undefined);
  assert.deepEqual(resolveConfig(validateText(two('[silence]'), 'f.yaml').input!, 'f.yaml').streams.a!.inputs[0]!.failoverOn, { silenceMs: 10_000 });
});

test('failover_on: bad conditions, thresholds and a lone input are reported with their place', () => {
  const msgs = (text: string) => validateText(text, 'f.yaml').issues.map((i) => `${i.line}:${i.col} ${i.message}`);
  assert.deepEqual(msgs(two('[black, purple]')), ['5:30 streams.a.inputs[0].failover_on[1]: expected one of black, frozen, silence, cc_errors, got "purple"']);
  assert.match(msgs(two('{ cc_errors: 5 }')).join('\n'), /cc_errors: expected COUNT\/WINDOW such as 20\/10s/);
  assert.match(msgs(two('{ cc_errors: "5/100ms" }')).join('\n'), /the window must be at least 1s/);
  assert.match(msgs(two('{ black: soon }')).join('\n'), /failover_on\.black: invalid duration "soon"/);
  assert.deepEqual(msgs('streams:\n  a:\n    inputs:\n      - url: udp://239.0.0.1:1234\n        failover_on: [black]\n'), ['5:9 failover_on needs another input to fail over to']);
});

test('warm: resolved on the input (absent when false); alone it is reported with its place', () => {
  const text = 'streams:\n  a:\n    inputs:\n      - url: udp://239.0.0.1:1234\n      - url: tshttp://b/x/mpegts\n        warm: true\n';
  const r = resolveConfig(validateText(text, 'f.yaml').input!, 'f.yaml').streams.a!;
  assert.equal(r.inputs[1]!.warm, true);
  assert.equal(r.inputs[0]!.warm, undefined);
  const msgs = validateText('streams:\n  a:\n    inputs:\n      - url: udp://239.0.0.1:1234\n        warm: true\n', 'f.yaml').issues.map((i) => `${i.line}:${i.col} ${i.message}`);
  assert.deepEqual(msgs, ['5:9 warm (standby) needs another input: it runs while another input is active']);
});
