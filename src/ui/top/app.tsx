/**
 * `flux top`: the ink (react) screen. Arrow keys select a stream, Enter shows its inputs, failover
 * history and ffmpeg command lines (Esc back), r restarts it, / filters by name, q quits. One poll
 * per refresh (TopPoller); ink's incremental rendering rewrites only the lines that changed, and
 * the frame keeps its height, so nothing flickers.
 */
import { useEffect, useRef, useState } from 'react';
import { Box, Text, render, useApp, useInput } from 'ink';
import { COLUMNS, cells, eventLine, fit, kbps, nodeLine, type TopPoller, type TopSnapshot, type TopStream } from './model.js';

export interface TopProps {
  poller: TopPoller;
  intervalMs: number;
  /** rows of the events pane */
  eventRows?: number;
  initialFilter?: string;
}

type Mode = 'table' | 'details' | 'filter';

export function TopApp({ poller, intervalMs, eventRows = 6, initialFilter = '' }: TopProps) {
  const { exit } = useApp();
  const [snap, setSnap] = useState<TopSnapshot>(poller.snapshot);
  const [selected, setSelected] = useState(0);
  const [mode, setMode] = useState<Mode>('table');
  const [filter, setFilter] = useState(initialFilter);
  const [message, setMessage] = useState('');
  const alive = useRef(true);

  useEffect(() => {
    alive.current = true;
    let timer: NodeJS.Timeout | undefined;
    const tick = async () => {
      const s = await poller.poll();
      if (!alive.current) return;
      setSnap(s);
      timer = setTimeout(() => void tick(), intervalMs);
    };
    void tick();
    return () => {
      alive.current = false;
      clearTimeout(timer);
    };
  }, [poller, intervalMs]);

  const rows = snap.streams.filter((s) => !filter || s.name.includes(filter));
  const sel = Math.min(selected, Math.max(0, rows.length - 1));
  const current: TopStream | undefined = rows[sel];

  useInput((input, key) => {
    if (mode === 'filter') {
      if (key.return || key.escape) setMode('table');
      else if (key.backspace || key.delete) setFilter((f) => f.slice(0, -1));
      else if (input && !key.ctrl && !key.meta) setFilter((f) => f + input);
      return;
    }
    if (input === 'q' || (key.ctrl && input === 'c')) {
      exit();
      return;
    }
    if (key.escape) {
      if (mode === 'details') setMode('table');
      else if (filter) setFilter('');
      return;
    }
    if (key.upArrow || input === 'k') setSelected(Math.max(0, sel - 1));
    else if (key.downArrow || input === 'j') setSelected(Math.min(rows.length - 1, sel + 1));
    else if (key.return && current) setMode(mode === 'details' ? 'table' : 'details');
    else if (input === '/') {
      setMode('filter');
      setSelected(0);
    } else if (input === 'r' && current) {
      const name = current.name;
      setMessage(`restarting ${name}…`);
      poller.restart(name).then(
        () => alive.current && setMessage(`restarted ${name}`),
        (e: Error) => alive.current && setMessage(`restart ${name} failed: ${e.message}`),
      );
    }
  });

  return (
    <Box flexDirection="column">
      <Text color={snap.node ? 'green' : 'red'} bold>
        {nodeLine(snap)}
      </Text>
      {mode === 'details' && current ? <Details s={current} /> : <Table rows={rows} selected={sel} />}
      <Text bold>EVENTS</Text>
      {Array.from({ length: eventRows }, (_, i) => {
        const e = snap.events[snap.events.length - eventRows + i];
        return (
          <Text key={i} color={e && /lost|failed|error|low|restarted/.test(e.event) ? 'yellow' : undefined} wrap="truncate">
            {e ? eventLine(e) : ' '}
          </Text>
        );
      })}
      <Text dimColor wrap="truncate">
        {mode === 'filter'
          ? `filter: ${filter}█  (Enter/Esc to finish)`
          : `${message ? message + '  ' : ''}↑↓ select  Enter details  r restart  / filter${filter ? ` [${filter}]` : ''}  q quit`}
      </Text>
    </Box>
  );
}

function Table({ rows, selected }: { rows: TopStream[]; selected: number }) {
  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate">
        {COLUMNS.map((c) => fit(c.title, c.width)).join('')}
      </Text>
      {rows.length === 0 ? <Text dimColor>no streams</Text> : null}
      {rows.map((s, i) => {
        const c = cells(s);
        const color = s.state === 'running' ? 'green' : s.state === 'failed' || s.state === 'restarting' ? 'red' : 'yellow';
        return (
          <Text key={s.name} inverse={i === selected} wrap="truncate">
            {fit(c.name, COLUMNS[0].width)}
            <Text color={color}>{fit(c.state, COLUMNS[1].width)}</Text>
            {COLUMNS.slice(2)
              .map((col) => fit(c[col.key], col.width))
              .join('')}
          </Text>
        );
      })}
    </Box>
  );
}

function Details({ s }: { s: TopStream }) {
  const st = s.doc.stats;
  const switches = st.events.filter((e) => e.type === 'switch').slice(-5);
  return (
    <Box flexDirection="column">
      <Text bold>
        {s.name} — {st.status}
        {st.source_error ? `  (${st.source_error})` : ''}
      </Text>
      <Text bold>INPUTS</Text>
      {st.inputs.map((i) => (
        <Text key={i.index} wrap="truncate" color={i.index === st.active_input ? 'green' : undefined}>
          {`${i.index === st.active_input ? '▶' : ' '} #${i.index} prio ${i.priority} ${i.state.padEnd(8)} ${kbps(i.bitrate).padStart(6)} ${String(Math.round(i.fps)).padStart(3)} fps cc ${i.cc_errors} switches ${i.switches}  ${i.url}${i.error ? `  ! ${i.error}` : ''}`}
        </Text>
      ))}
      <Text bold>FAILOVER HISTORY</Text>
      {switches.length === 0 ? <Text dimColor>no switches</Text> : null}
      {switches.map((e, k) => (
        <Text key={k} wrap="truncate">{`${new Date(e.at).toISOString().slice(11, 19)}  #${e.from ?? '-'} → #${e.to ?? '-'}  ${e.reason ?? ''}`}</Text>
      ))}
      <Text bold>FFMPEG</Text>
      {st.ffmpeg.length === 0 ? <Text dimColor>no ffmpeg running (native input)</Text> : null}
      {st.ffmpeg.map((f) => (
        <Text key={f.pid} wrap="wrap">{`${f.role} pid ${f.pid}: ffmpeg ${(f.args ?? []).join(' ')}`}</Text>
      ))}
      {st.push.length ? <Text bold>PUSH</Text> : null}
      {st.push.map((p, k) => (
        <Text key={k} wrap="truncate">{`${p.state.padEnd(10)} ${p.url}  ${p.bytes} bytes  restarts ${p.restarts}${p.error ? `  ! ${p.error}` : ''}`}</Text>
      ))}
    </Box>
  );
}

/** Run the screen until q; resolves when it is closed. */
export async function runTop(props: TopProps): Promise<void> {
  const app = render(<TopApp {...props} />, { incrementalRendering: true, exitOnCtrlC: true, maxFps: 10 });
  await app.waitUntilExit();
}
