/**
 * The UDP sender of bench/scale.ts (not a bench by itself): ONE process that loops a constant-bitrate
 * MPEG-TS file (made with ffmpeg -muxrate, so bytes are proportional to PCR time and pacing by the
 * byte rate is pacing by PCR) and sends every 1316-byte datagram (7 TS packets) to each of the
 * given ports on 127.0.0.1 at real-time pace. One sender for N streams keeps feeding 200 streams
 * cheap: no ffmpeg per stream, one read of the file.
 *
 *   node --import tsx bench/udp-fanout.ts FILE BYTES_PER_SECOND PORT [PORT...]
 *
 * Every second it prints one JSON line on stdout: {"datagrams": sent per port so far, "behind_ms":
 * how far the sender is behind real time now, "max_behind_ms", "errors"}, so the bench can tell a
 * starved sender (a loaded machine) from a slow server. Stops on SIGTERM/SIGINT.
 */
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';

const DATAGRAM = 7 * 188;
const TICK_MS = 5;
// a sender more than this behind real time skips ahead instead of bursting (a burst would overflow the
// receivers' socket buffers and read as loss in the server)
const MAX_CATCH_UP_MS = 500;

const [file, rateArg, ...portArgs] = process.argv.slice(2);
const rate = Number(rateArg);
const ports = portArgs.map(Number);
if (!file || !(rate > 0) || !ports.length || ports.some((p) => !(Number.isInteger(p) && p > 0 && p < 65536))) {
  process.stderr.write('usage: udp-fanout.ts FILE BYTES_PER_SECOND PORT [PORT...]\n');
  process.exit(2);
}

const data = readFileSync(file);
const whole = data.length - (data.length % 188);
const chunks: Buffer[] = [];
for (let o = 0; o < whole; o += DATAGRAM) chunks.push(data.subarray(o, Math.min(o + DATAGRAM, whole)));
if (!chunks.length || data[0] !== 0x47) {
  process.stderr.write(`udp-fanout: ${file} is not MPEG-TS\n`);
  process.exit(2);
}

const sock = dgram.createSocket('udp4');
let errors = 0;
sock.on('error', () => errors++);
const t0 = performance.now();
let sent = 0; // datagrams sent to each port (position in the endless loop of chunks)
let skipped = 0;
let maxBehindMs = 0;

function tick(): void {
  const due = Math.floor(((performance.now() - t0) / 1000) * (rate / DATAGRAM));
  const behindMs = ((due - sent) * DATAGRAM * 1000) / rate;
  if (behindMs > maxBehindMs) maxBehindMs = behindMs;
  if (behindMs > MAX_CATCH_UP_MS) {
    skipped += due - sent;
    sent = due;
    return;
  }
  for (; sent < due; sent++) {
    const c = chunks[sent % chunks.length]!;
    for (const p of ports) sock.send(c, p, '127.0.0.1', (e) => e && errors++);
  }
}

const timer = setInterval(tick, TICK_MS);
const report = setInterval(() => {
  const due = Math.floor(((performance.now() - t0) / 1000) * (rate / DATAGRAM));
  process.stdout.write(`${JSON.stringify({ datagrams: sent - skipped, skipped, behind_ms: Math.round(((due - sent) * DATAGRAM * 1000) / rate), max_behind_ms: Math.round(maxBehindMs), errors })}\n`);
}, 1000);

function stop(): void {
  clearInterval(timer);
  clearInterval(report);
  sock.close();
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
