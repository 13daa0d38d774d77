/**
 * The one event model of Flux: a contract of the node's API (`/api/v3/events`, webhooks) and of the
 * supervisors' event feed, so it lives with the other wire documents. (Flussonic's event names where they exist). Supervisors produce
 * stream events (without an id), the node agent numbers them (`event_id`, increasing per node)
 * and adds its own (config_reloaded, supervisor_restarted); the API, `flux events`, webhooks and
 * the admin page all carry this same document.
 */
export const EVENT_NAMES = [
  'stream_started',
  'stream_stopped',
  'source_lost',
  'source_ready',
  'source_switched',
  'push_failed',
  'push_restored',
  'dvr_write_error',
  'disk_low',
  'play_opened',
  'play_closed',
  'publish_started',
  'publish_stopped',
  'config_reloaded',
  'supervisor_restarted',
] as const;

export type EventName = (typeof EVENT_NAMES)[number];

/** What every event carries, as a supervisor emits it and as the node serves it. */
interface EventFields {
  event: EventName;
  utc_ms: number;
  stream: string | null;
  reason: string;
  /** input index (source_* events), from/to (source_switched), push url (push_*) … */
  input?: number;
  from?: number | null;
  to?: number;
  url?: string;
  message?: string;
}

/** An event as a supervisor emits it (no id, no node: the agent adds them). */
export interface StreamEvent extends EventFields {
  /** the supervisor's own sequence number (1, 2, …), for resuming its feed */
  seq: number;
}

/** An event as the node keeps and serves it (`/api/v3/events`, webhooks, `flux events --json`). */
export interface FluxEvent extends EventFields {
  event_id: number;
  node: string;
}

export function isEventName(s: string): s is EventName {
  return (EVENT_NAMES as readonly string[]).includes(s);
}

/** only/except filter of a sink or a query (empty only = everything). */
export function eventMatches(e: { event: string }, only: readonly string[] | undefined, except: readonly string[] | undefined): boolean {
  if (only && only.length && !only.includes(e.event)) return false;
  if (except && except.length && except.includes(e.event)) return false;
  return true;
}
