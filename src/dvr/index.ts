/**
 * DVR: time-indexed archive of HLS segments (see layout.ts for the on-disk layout).
 *   recorder.ts  DvrRecorder — the supervisor's side: index appends, reconciliation, retention, pause/resume
 *   archive.ts   Archive — reading: segments in [from, to), ranges, gaps (binary search over hourly index files)
 *   http.ts      handleDvrRequest — archive playback URLs for the node's playback router
 *   export.ts    exportArchive — `flux dvr export` (.ts concatenation, .mp4 remux)
 *
 * Supervisor (one recorder per stream with dvr, shared by its renditions' writers):
 *
 *   const dvr = stream.dvr ? await DvrRecorder.forStream(stream, { logger }) : undefined;
 *   dvr?.startRetentionJob(60_000);
 *   await HlsWriter.open({ root: stream.root, rendition, keepSegments: !!stream.dvr, …,
 *     onSegment: async (seg) => { …; await dvr?.onSegment(seg); } });   // never rejects
 *   // when a writer's stats report a write failure (ENOSPC …): dvr?.onWriteError(stats.lastError)
 *   // status: include dvr.status; stop: close the writers, then await dvr?.close()
 *
 * Node playback router: `handleDvrRequest(req, res, stream, rest, { logger, query })` for anything under
 * `/<stream>/` it does not serve itself; it resolves false when `rest` is not a DVR URL.
 */
export { DvrRecorder } from './recorder.js';
export type { DvrRecorderOptions, DvrSegment, DvrStatus, DvrRenditionStatus, RetentionResult, StatFsFn, StatFsLike } from './recorder.js';
export { Archive, archiveFor } from './archive.js';
export type { RenditionSummary, HourLoad } from './archive.js';
export { computeGaps, computeRanges, isBreak, GAP_FACTOR } from './gaps.js';
export type { Gap, RecordedRange } from './gaps.js';
export { SegTable } from './table.js';
export type { SegmentRecord } from './table.js';
export { renderArchivePlaylist, renderArchiveMaster, bandwidthOf } from './playlist.js';
export { handleDvrRequest, parseDvrPath } from './http.js';
export { exportArchive, formatOf, NothingRecordedError } from './export.js';
export type { ExportOptions, ExportResult, ExportFormat } from './export.js';
export { parseTime, parseDurationArg } from './time.js';
export { segmentRelPath, parseSegmentName, hourOf, indexFileName, HOUR_MS } from '../protocol/layout.js';
export { decodeIndex, encodeRecord, RECORD_SIZE, readHourIndex, writeHourIndex, appendRecord } from './index-file.js';
