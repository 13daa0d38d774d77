/**
 * The worker's responses carry WORKER_HEADER (which process answered). Setting it with setHeader
 * before the playback handler runs would push every answer off Node's fast writeHead path (headers
 * given as a prebuilt array are merged one by one with those set before): about a fifth of the
 * playlist throughput on this machine. Instead the header is added inside writeHead itself: an
 * array gets it appended (a copy; the handler's arrays are shared), an object gets a copy with it.
 */
import http, { type IncomingMessage, type OutgoingHttpHeader, type OutgoingHttpHeaders } from 'node:http';
import { WORKER_HEADER } from '../../protocol/playback-worker.js';

type Headers = OutgoingHttpHeaders | OutgoingHttpHeader[] | undefined;

export class TaggedResponse<Req extends IncomingMessage = IncomingMessage> extends http.ServerResponse<Req> {
  /** the value of WORKER_HEADER on this response (`N`, or `N proxied`) */
  workerTag = '';
}

const plainWriteHead = http.ServerResponse.prototype.writeHead as (this: http.ServerResponse, statusCode: number, ...rest: unknown[]) => http.ServerResponse;

TaggedResponse.prototype.writeHead = function writeHead(this: TaggedResponse, statusCode: number, a?: string | Headers, b?: Headers) {
  const message = typeof a === 'string' ? a : undefined;
  let headers = typeof a === 'string' ? b : a;
  if (this.workerTag !== '') {
    if (Array.isArray(headers)) headers = [...(headers as string[]), WORKER_HEADER, this.workerTag];
    else if (headers) headers = { ...headers, [WORKER_HEADER]: this.workerTag };
    else if (!this.hasHeader(WORKER_HEADER)) this.setHeader(WORKER_HEADER, this.workerTag);
  }
  return message !== undefined ? plainWriteHead.call(this, statusCode, message, headers) : plainWriteHead.call(this, statusCode, headers);
} as unknown as TaggedResponse['writeHead'];
