// Flux admin page: plain ES module, no build step. Talks to the control API under /admin/api/v3
// (same handlers as /api/v3; the browser's Basic credentials for /admin/ cover it).
const API = '/admin/api/v3';
const $ = (s) => document.querySelector(s);
const state = { streams: [], selected: null, filter: '', hls: null };

const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const kbps = (b) => (!b ? '-' : b >= 1e6 ? `${(b / 1e6).toFixed(1)} Mb/s` : `${Math.round(b / 1000)} kb/s`);
const ago = (s) => (s == null ? '-' : s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : s < 172800 ? `${(s / 3600).toFixed(1)}h` : `${(s / 86400).toFixed(1)}d`);
const streamPath = (name) => name.split('/').map(encodeURIComponent).join('/');

async function api(path, opts) {
  const r = await fetch(API + path, { credentials: 'same-origin', ...opts });
  if (!r.ok) throw new Error(`${r.status} ${(await r.text()).slice(0, 200)}`);
  return r.json();
}

async function refreshNode() {
  try {
    const n = await api('/node');
    $('#node').textContent = `node ${n.name} · flux ${n.version} · up ${ago(Math.round(n.uptime_ms / 1000))} · ${n.streams_running}/${n.streams_count} streams running · ${n.supervisor_restarts} restarts`;
  } catch (e) {
    $('#node').textContent = `node unreachable (${e.message}): retrying…`;
  }
}

async function refreshStreams() {
  try {
    state.streams = (await api('/streams')).streams;
  } catch {
    return;
  }
  const rows = state.streams.filter((s) => !state.filter || s.name.includes(state.filter));
  $('#streams tbody').innerHTML = rows
    .map((s) => {
      const st = s.stats;
      const a = st.inputs.find((i) => i.index === st.active_input);
      const dvr = st.dvr_info?.from ? ago(Math.round((Date.now() - st.dvr_info.from) / 1000)) : '-';
      const push = st.push.length ? `${st.push.filter((p) => p.state === 'running').length}/${st.push.length}` : '-';
      return `<tr data-name="${esc(s.name)}" class="${s.name === state.selected ? 'selected' : ''}">
        <td><img class="thumb" alt="" src="/${esc(streamPath(s.name))}/preview.jpg" data-thumb></td>
        <td>${esc(s.name)}</td><td class="state ${esc(st.status)}">${esc(st.status)}</td>
        <td class="url">${a ? `#${a.index} ${esc(a.url)}` : '-'}</td><td>${kbps(st.input_bitrate)}</td>
        <td>${a?.fps ? Math.round(a.fps) : '-'}</td><td>${st.inputs.reduce((n, i) => n + i.cc_errors, 0)}</td>
        <td>${st.online_clients ?? 0}</td><td>${dvr}</td><td>${push}</td></tr>`;
    })
    .join('');
  // thumbnails only where the node makes them
  for (const img of document.querySelectorAll('img[data-thumb]')) img.addEventListener('error', () => (img.style.visibility = 'hidden'), { once: true });
}

async function refreshDetail() {
  const name = state.selected;
  if (!name) return;
  try {
    const m = await api(`/streams/${streamPath(name)}/status`);
    $('#inputs tbody').innerHTML = m.inputs
      .map((i) => `<tr><td>${i.index === m.active_input ? '▶' : ''}${i.index}</td><td>${i.priority}</td><td class="state ${esc(i.state)}">${esc(i.state)}</td>
        <td>${kbps(i.bitrate)}</td><td>${Math.round(i.fps) || '-'}</td><td>${i.cc_errors}</td><td>${i.lost_packets}</td>
        <td>${i.last_packet_age_ms == null ? '-' : `${(i.last_packet_age_ms / 1000).toFixed(1)}s ago`}</td><td>${i.switches}</td>
        <td class="url">${esc(i.url)}</td><td>${esc(i.error ?? '')}</td></tr>`)
      .join('');
  } catch (e) {
    $('#detail-msg').textContent = e.message;
  }
}

function loadHls() {
  if (window.Hls) return Promise.resolve(window.Hls);
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = '/flux/static/hls.min.js';
    s.onload = () => resolve(window.Hls);
    s.onerror = () => reject(new Error('hls.js unavailable'));
    document.head.append(s);
  });
}

async function select(name) {
  state.selected = name;
  $('#detail').hidden = false;
  $('#detail-name').textContent = name;
  $('#detail-msg').textContent = '';
  for (const tr of document.querySelectorAll('#streams tbody tr')) tr.classList.toggle('selected', tr.dataset.name === name);
  await refreshDetail();
  const video = $('#player');
  const src = `/${streamPath(name)}/index.m3u8`;
  state.hls?.destroy();
  state.hls = null;
  // hls.js (MSE) first, like embed.html; native HLS only where there is no MSE (iOS Safari)
  let Hls = null;
  try {
    Hls = await loadHls();
  } catch (e) {
    $('#detail-msg').textContent = e.message;
  }
  if (state.selected !== name) return;
  if (Hls && Hls.isSupported()) {
    state.hls = new Hls({ liveSyncDurationCount: 2 });
    state.hls.loadSource(src);
    state.hls.attachMedia(video);
  } else if (video.canPlayType('application/vnd.apple.mpegurl')) video.src = src;
  video.play().catch(() => {});
}

function addEvent(e) {
  const li = document.createElement('li');
  const t = new Date(e.utc_ms).toISOString().slice(11, 19);
  const extra = e.event === 'source_switched' ? ` ${e.from ?? '-'}→${e.to ?? '-'}` : e.input !== undefined ? ` #${e.input}` : '';
  li.textContent = `${t} ${e.event} ${e.stream ?? '-'} ${e.reason}${extra}`;
  li.dataset.event = e.event;
  if (/lost|failed|error|low|restarted/.test(e.event)) li.className = 'warn';
  const list = $('#events');
  list.prepend(li);
  while (list.children.length > 200) list.lastChild.remove();
}

// The live feed: NDJSON over one long response; reconnects from the last event seen.
async function followEvents() {
  let last = null;
  for (;;) {
    try {
      const q = last === null ? 'limit=50' : `since=${last}`;
      const r = await fetch(`${API}/events?follow=true&${q}`, { credentials: 'same-origin' });
      if (!r.ok || !r.body) throw new Error(`HTTP ${r.status}`);
      $('#events-state').textContent = 'live';
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          const e = JSON.parse(line);
          if (last !== null && e.event_id <= last) continue;
          last = e.event_id;
          addEvent(e);
        }
      }
    } catch {
      /* fall through: reconnect */
    }
    $('#events-state').textContent = 'reconnecting…';
    // a restarted node numbers its events from 1 again: start over from its recent ones
    last = null;
    $('#events').replaceChildren();
    await new Promise((r) => setTimeout(r, 2000));
  }
}

$('#streams tbody').addEventListener('click', (ev) => {
  const tr = ev.target.closest('tr[data-name]');
  if (tr) void select(tr.dataset.name);
});
$('#filter').addEventListener('input', (ev) => {
  state.filter = ev.target.value;
  void refreshStreams();
});
$('#restart').addEventListener('click', async () => {
  if (!state.selected) return;
  $('#detail-msg').textContent = 'restarting…';
  try {
    await api(`/streams/${streamPath(state.selected)}/restart`, { method: 'POST', headers: { 'x-flux-admin': '1' } });
    $('#detail-msg').textContent = 'restarted';
  } catch (e) {
    $('#detail-msg').textContent = `restart failed: ${e.message}`;
  }
});

await Promise.all([refreshNode(), refreshStreams()]);
document.body.dataset.ready = 'true';
setInterval(() => void refreshNode(), 5000);
setInterval(() => void refreshStreams(), 2000);
setInterval(() => void refreshDetail(), 2000);
void followEvents();
