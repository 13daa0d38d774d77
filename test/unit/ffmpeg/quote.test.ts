import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shellQuote, shellQuoteArg, escapeFilterValue } from '../../../src/ffmpeg/quote.js';

test('shellQuote leaves plain words alone and single-quotes the rest', () => {
  assert.equal(shellQuoteArg('-c:v'), '-c:v');
  assert.equal(shellQuoteArg('pipe:1'), 'pipe:1');
  assert.equal(shellQuoteArg(''), "''");
  assert.equal(shellQuoteArg('[v0]'), "'[v0]'");
  assert.equal(shellQuoteArg("it's"), `'it'\\''s'`);
  assert.equal(shellQuote('/usr/bin/ffmpeg', ['-i', 'a b']), "/usr/bin/ffmpeg -i 'a b'");
});

test('escapeFilterValue escapes for the option level and then the graph level', () => {
  assert.equal(escapeFilterValue('/a/b.png'), '/a/b.png');
  assert.equal(escapeFilterValue('a:b'), 'a\\\\:b');
  assert.equal(escapeFilterValue('a,b;c[d]'), 'a\\,b\\;c\\[d\\]');
  assert.equal(escapeFilterValue("a'b"), "a\\\\\\'b");
});
