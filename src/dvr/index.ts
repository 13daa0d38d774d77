/**
 * DVR: time-indexed archive of HLS segments (see layout.ts for the on-disk layout).
 *   recorder.ts  DvrRecorder — the supervisor's side: index appends, reconciliation, retention, pause/resume
 *   archive.ts   Archive — reading: segments in [from, to), ranges, gaps (binary search over hourly index files)
 *   http.ts      handleDvrRequest — archive playback URLs for the node's playback router
 *   export.ts    exportArchive — `flux dvr export` (.ts concatenation, .mp4 remux)
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
export { segmentRelPath, parseSegmentName, hourOf, indexFileName, HOUR_MS } from './layout.js';
export { decodeIndex, encodeRecord, RECORD_SIZE, readHourIndex, writeHourIndex, appendRecord } from './index-file.js';
