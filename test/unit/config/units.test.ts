import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseDuration,
  parseSize,
  parseBitrate,
  parseFrameSize,
  parsePercent,
  formatDuration,
  formatSize,
  formatBitrate,
  UnitError,
} from '../../../src/config/units.js';

const isUnitError = (re: RegExp) => (e: unknown) => e instanceof UnitError && e.code === 'E_UNIT' && re.test(e.message) && !e.message.includes('\n');

test('durations: units, bare numbers are seconds, fractions', () => {
  const cases: [string | number, number][] = [
    ['500ms', 500], ['2s', 2000], ['2', 2000], [2, 2000], [0.5, 500], ['1.5s', 1500], ['.5s', 500],
    ['90m', 5_400_000], ['90min', 5_400_000], ['2h', 7_200_000], ['7d', 604_800_000], ['1w', 604_800_000],
    [' 10 s ', 10_000], ['3D', 259_200_000], [0, 0],
  ];
  for (const [input, ms] of cases) assert.equal(parseDuration(input), ms, String(input));
});

test('durations: junk is a UnitError with a one-line reason and an example', () => {
  for (const junk of ['', 'soon', '7 days', '2 hours ago', '1y', 's', '-5s', '1e3s', '2s3', 'NaN']) {
    assert.throws(() => parseDuration(junk), isUnitError(/invalid duration ".*": expected a number with a unit .*e\.g\. 2s/), junk);
  }
  for (const junk of [-1, Number.NaN, Number.POSITIVE_INFINITY]) assert.throws(() => parseDuration(junk), isUnitError(/invalid duration/));
});

test('sizes: binary multiples and optional B/iB suffix', () => {
  const cases: [string | number, number][] = [
    ['0', 0], [1024, 1024], ['1K', 1024], ['1k', 1024], ['500M', 500 * 1024 ** 2], ['500G', 500 * 1024 ** 3],
    ['2T', 2 * 1024 ** 4], ['1.5GB', 1.5 * 1024 ** 3], ['10MiB', 10 * 1024 ** 2], ['12b', 12], ['1P', 1024 ** 5],
  ];
  for (const [input, bytes] of cases) assert.equal(parseSize(input), bytes, String(input));
  for (const junk of ['lots', '5X', '-1G', '1 0G', 'G']) assert.throws(() => parseSize(junk), isUnitError(/invalid size ".*": expected .*500M/), junk);
  assert.throws(() => parseSize(-5), isUnitError(/invalid size -5/));
});

test('bitrates: decimal multiples, positive only', () => {
  const cases: [string | number, number][] = [
    ['4000k', 4_000_000], ['2.5M', 2_500_000], ['128k', 128_000], ['1G', 1e9], [800000, 800000], ['64kbps', 64_000], ['3Mb', 3_000_000],
  ];
  for (const [input, bps] of cases) assert.equal(parseBitrate(input), bps, String(input));
  for (const junk of ['fast', '0', '0k', '-5k', '4000x', '']) assert.throws(() => parseBitrate(junk), isUnitError(/invalid bitrate/), junk);
  assert.throws(() => parseBitrate(0), isUnitError(/positive/));
});

test('frame sizes: WIDTHxHEIGHT with one -1/-2 side allowed', () => {
  assert.deepEqual(parseFrameSize('1920x1080'), { width: 1920, height: 1080 });
  assert.deepEqual(parseFrameSize('1280X720'), { width: 1280, height: 720 });
  assert.deepEqual(parseFrameSize('-2x360'), { width: -2, height: 360 });
  assert.deepEqual(parseFrameSize('640x-1'), { width: 640, height: -1 });
  for (const junk of ['1920by1080', '1920x', 'x720', '-1x-1', '1x1', '9000x9000', '1920x1080x3', '']) {
    assert.throws(() => parseFrameSize(junk), isUnitError(/invalid frame size/), junk);
  }
});

test('percentages: 1..100 with optional %', () => {
  assert.equal(parsePercent('90%'), 90);
  assert.equal(parsePercent(75), 75);
  assert.equal(parsePercent('12.5 %'), 12.5);
  for (const junk of ['0%', '120%', 'lots', '-5%', '']) assert.throws(() => parsePercent(junk), isUnitError(/invalid percentage/), junk);
});

test('formatting for tables', () => {
  assert.equal(formatDuration(250), '250ms');
  assert.equal(formatDuration(2500), '2.5s');
  assert.equal(formatDuration(3_723_000), '1h2m');
  assert.equal(formatDuration(90_061_000), '1d1h');
  assert.equal(formatSize(512), '512B');
  assert.equal(formatSize(1536), '1.5K');
  assert.equal(formatSize(500 * 1024 ** 3), '500G');
  assert.equal(formatBitrate(4_000_000), '4M');
  assert.equal(formatBitrate(2_560_000), '2.56M');
  assert.equal(formatBitrate(128_000), '128k');
  assert.equal(formatBitrate(900), '900');
});

test('format and parse round-trip for sizes and bitrates', () => {
  for (const b of [1024, 500 * 1024 ** 2, 2 * 1024 ** 4]) assert.equal(parseSize(formatSize(b)), b);
  for (const b of [128_000, 4_000_000, 2_500_000]) assert.equal(parseBitrate(formatBitrate(b)), b);
});
