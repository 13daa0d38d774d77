/**
 * What stream commands do when no node runs: read or edit the config file directly
 * (edit.ts keeps comments, validates, writes atomically). The result documents have the API's
 * shape, with stats of a stopped stream.
 */
import { loadConfigFile } from '../config/load.js';
import { addStreamToDocument, editConfigFile, removeStreamFromDocument } from '../config/edit.js';
import type { StreamInput } from '../config/schema.js';
import { InputError } from '../core/errors.js';
import type { StreamDoc, StreamList, StreamStatsDoc } from './index.js';

export function stoppedStats(disabled = false): StreamStatsDoc {
  return {
    alive: false,
    status: disabled ? 'disabled' : 'stopped',
    bitrate: 0,
    input_bitrate: 0,
    retry_count: 0,
    lifetime: 0,
    media_info: null,
    source_error: null,
    active_input: null,
    inputs: [],
    push: [],
    renditions: [],
    events: [],
    ffmpeg: [],
    supervisor: null,
  };
}

function doc(name: string, s: StreamInput): StreamDoc {
  return { name, ...(s as Record<string, unknown>), inputs: s.inputs as StreamDoc['inputs'], stats: stoppedStats(s.disabled === true) };
}

export async function offlineList(file: string): Promise<StreamList> {
  const cfg = await loadConfigFile(file);
  const streams = Object.entries(cfg.input.streams ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([n, s]) => doc(n, s));
  return { streams, estimated_count: streams.length };
}

export async function offlineShow(file: string, name: string): Promise<StreamDoc> {
  const cfg = await loadConfigFile(file);
  const s = (cfg.input.streams ?? {})[name];
  if (!s) throw new InputError(`stream "${name}" not found in ${file}`, { code: 'E_NOT_FOUND' });
  return doc(name, s);
}

export async function offlineAdd(file: string, name: string, stream: StreamInput): Promise<StreamDoc> {
  const cfg = await editConfigFile(file, (d) => addStreamToDocument(d, name, stream), { create: true });
  return doc(name, (cfg.input.streams ?? {})[name] ?? stream);
}

export async function offlineRemove(file: string, name: string): Promise<void> {
  await editConfigFile(file, (d) => removeStreamFromDocument(d, name));
}
