/**
 * failover_on reaches the API and `flux stream show`: the supervisor's per-input `quality` (what is
 * watched, failovers by reason, the watch's own error) is relayed into the stream document's
 * inputs, the `--json` result schema accepts it, and the table names each reason with its count.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statsOf } from '../../../../src/daemons/node/api.js';
import { render } from '../../../../src/commands/stream/show.js';
import { streamShow } from '../../../../src/protocol/results.js';
import type { SupervisorStatus, InputStatus } from '../../../../src/protocol/supervisor-status.js';
import type { StreamDoc } from '../../../../src/client/index.js';

const input = (index: number, extra: Partial<InputStatus>): InputStatus => ({
  index,
  url: index === 0 ? 'udp://239.0.0.1:1234' : 'fake://black?silence',
  priority: index + 1,
  state: index === 0 ? 'standby' : 'active',
  bitrate: 1000,
  fps: 25,
  ccErrors: 0,
  lostPackets: 0,
  lastPacketAgeMs: 10,
  switches: 0,
  lastError: null,
  ...extra,
});

const status = (inputs: InputStatus[]): SupervisorStatus => ({
  name: 'ch1',
  pid: 1,
  specHash: 'h',
  state: 'running',
  startedAt: Date.now() - 1000,
  activeInput: 1,
  inputs,
  restarts: 0,
  lastError: null,
  bitrate: 1000,
  fps: 25,
  mediaInfo: null,
  renditions: [],
  push: [],
  events: [{ at: Date.now(), type: 'switch', reason: 'black', from: 0, to: 1 }],
  dvr: null,
  ffmpeg: [],
});

test('the API relays failover_on per input and stream show lists it', () => {
  const st = status([
    input(0, { quality: { watch: ['black', 'silence'], failovers: { black: 2, silence: 1 }, error: null } }),
    input(1, {}),
  ]);
  const stats = statsOf(undefined, undefined, st);
  assert.deepEqual(stats.inputs[0]!.quality, { watch: ['black', 'silence'], failovers: { black: 2, silence: 1 }, error: null });
  assert.equal('quality' in stats.inputs[1]!, false, 'an unwatched input has no quality field');

  const doc = { name: 'ch1', inputs: [{ url: 'udp://239.0.0.1:1234' }, { url: 'fake://black?silence' }], stats } as StreamDoc;
  assert.equal(streamShow.safeParse({ ...doc, monitor: null }).success, true, 'the --json result schema accepts quality');

  const text = render(doc, undefined);
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.startsWith('QUALITY WATCH'));
  assert.ok(at > 0, text);
  const row = lines.slice(at + 1).find((l) => /^\s*0\s/.test(l));
  assert.match(row ?? '', /black, silence\s+black 2, silence 1/);
});

test('a watch error is shown; a malformed quality document from the supervisor is sanitised', () => {
  const bad = { watch: ['frozen'], failovers: { frozen: 'x' as unknown as number }, error: 'ffmpeg exited' };
  const stats = statsOf(undefined, undefined, status([input(0, { quality: bad }), input(1, {})]));
  assert.deepEqual(stats.inputs[0]!.quality, { watch: ['frozen'], failovers: { frozen: 0 }, error: 'ffmpeg exited' });
  const text = render({ name: 'ch1', inputs: [], stats } as unknown as StreamDoc, undefined);
  assert.match(text, /frozen\s+frozen 0\s+ffmpeg exited/);
});
