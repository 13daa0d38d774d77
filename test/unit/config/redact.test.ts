import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactSecrets, redactUrl, REDACTED } from '../../../src/config/redact.js';

test('redactUrl: userinfo passwords and secret query parameters, nothing else', () => {
  assert.equal(redactUrl('rtsp://admin:hunter2@10.0.0.5:554/live'), `rtsp://admin:${REDACTED}@10.0.0.5:554/live`);
  assert.equal(redactUrl('rtsp://admin@10.0.0.5/live'), 'rtsp://admin@10.0.0.5/live');
  assert.equal(redactUrl('srt://h:9000?streamid=cam&passphrase=abcdefghij&latency=200'), `srt://h:9000?streamid=cam&passphrase=${REDACTED}&latency=200`);
  assert.equal(redactUrl('https://cdn/x.m3u8?token=t0k&a=1#frag'), `https://cdn/x.m3u8?token=${REDACTED}&a=1#frag`);
  assert.equal(redactUrl('publish://'), 'publish://');
  assert.equal(redactUrl('not a url'), 'not a url');
});

test('redactSecrets: secret keys anywhere, URLs inside arrays, booleans and objects of the same name kept', () => {
  const doc = {
    server: { cluster_key: 'k3y-k3y-k3y' },
    auth: { users: [{ name: 'a', password_hash: 'scrypt$x', role: 'read' }], securetoken: 'abcdefgh', secure_link_key: 'abcdefgh' },
    cluster: { etcd: { password: 'etcdpw' } },
    streams: { s: { publish_password: 'p', play_token: true, inputs: [{ url: 'rtmp://u:pw@h/app/s', srt_passphrase: 'abcdefghijk' }], push: [{ url: 'srt://h:1?passphrase=abcdefghij' }] } },
  };
  const out = redactSecrets(doc);
  assert.doesNotMatch(JSON.stringify(out), /k3y|scrypt\$x|abcdefgh|etcdpw|"p"|:pw@/);
  assert.equal(out.streams.s.play_token, true);
  assert.equal(out.auth.users[0]!.name, 'a');
  assert.equal(out.streams.s.inputs[0]!.url, `rtmp://u:${REDACTED}@h/app/s`);
  assert.equal(doc.server.cluster_key, 'k3y-k3y-k3y', 'the input is not modified');
});
