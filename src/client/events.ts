/**
 * Client side of the node's event feed and metrics (the Unix-socket API):
 * `GET /api/v3/events` (a page) and `?follow=true` (NDJSON, read line by line as it arrives).
 */
import http from 'node:http';
import { NodeUnreachableError } from '../core/errors.js';
import type { FluxClient } from './index.js';
import type { FluxEvent } from '../protocol/events.js';

/** An event as the node serves it: the one definition is src/protocol/events.ts. */
export type EventDoc = FluxEvent;

export interface EventQueryOptions {
  stream?: string;
  since?: number;
  limit?: number;
}

function qs(o: EventQueryOptions & { follow?: boolean }): string {
  const q = new URLSearchParams();
  if (o.stream) q.set('stream', o.stream);
  if (o.since !== undefined) q.set('since', String(o.since));
  if (o.limit !== undefined) q.set('limit', String(o.limit));
  if (o.follow) q.set('follow', 'true');
  const s = q.toString();
  return s ? `?${s}` : '';
}

export function listEvents(client: FluxClient, o: EventQueryOptions = {}): Promise<{ events: EventDoc[]; last_event_id: number }> {
  return client.request('GET', '/api/v3/events' + qs(o));
}

export async function metricsText(client: FluxClient): Promise<string> {
  return client.request<string>('GET', '/api/v3/metrics');
}

/**
 * Follow the feed: calls onEvent per event until the signal aborts (resolves) or the node goes away
 * (rejects with NodeUnreachableError).
 */
export function followEvents(socketPath: string, o: EventQueryOptions, onEvent: (e: EventDoc) => void, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path: '/api/v3/events' + qs({ ...o, follow: true }), headers: { host: 'localhost' }, agent: false });
    const gone = (detail: string) => reject(new NodeUnreachableError(`the node on socket ${socketPath} went away (${detail})`));
    signal?.addEventListener('abort', () => {
      req.destroy();
      resolve();
    }, { once: true });
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (signal?.aborted) return;
      gone(e.code ?? e.message);
    });
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return reject(new Error(`events: HTTP ${res.statusCode}`));
      }
      res.setEncoding('utf8');
      let buf = '';
      res.on('data', (d: string) => {
        buf += d;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          try {
            onEvent(JSON.parse(line) as EventDoc);
          } catch {
            /* a torn line cannot happen on a socket; ignore garbage */
          }
        }
      });
      res.on('end', () => (signal?.aborted ? resolve() : gone('stream ended')));
      res.on('error', () => (signal?.aborted ? resolve() : gone('stream error')));
    });
    req.end();
  });
}

/** One line for people: `2026-12-06T03:50:00.123Z  source_switched  cam1  source_timeout  0→1`. */
export function formatEvent(e: EventDoc): string {
  const extra: string[] = [];
  if (e.input !== undefined) extra.push(`input ${e.input}`);
  if (e.from !== undefined || e.to !== undefined) extra.push(`${e.from ?? '-'}→${e.to ?? '-'}`);
  if (e.url) extra.push(e.url);
  if (e.message) extra.push(e.message);
  return [new Date(e.utc_ms).toISOString(), e.event.padEnd(20), (e.stream ?? '-').padEnd(16), e.reason, ...extra].join('  ');
}
