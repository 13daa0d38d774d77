/**
 * Runs config loading, validation and edits in a child process of the agent (forked with IPC). The schema library (zod) costs
 * ~14 MB of RSS once imported; keeping it out of the node agent's main isolate (the worker exits
 * when idle) keeps the agent's resident size down. Messages: {id, op, args} → {id, ok, result|error}.
 */
import { loadConfigFile, validateText } from '../../config/load.js';
import { editConfigFile, parseForEdit, removeStreamFromDocument, renderEdited, setStreamInDocument } from '../../config/edit.js';
import { resolveConfig } from '../../config/resolve.js';
import type { StreamInput } from '../../config/schema.js';
import { ConfigError, isFluxError } from '../../core/errors.js';
import type { Document } from 'yaml';

export type EditOp = { kind: 'set'; name: string; value: StreamInput } | { kind: 'remove'; name: string };

function apply(op: EditOp): (doc: Document) => void {
  return op.kind === 'set' ? (doc) => setStreamInDocument(doc, op.name, op.value) : (doc) => removeStreamFromDocument(doc, op.name);
}

const ops = {
  async load(file: string) {
    const l = await loadConfigFile(file);
    return { file: l.file, input: l.input, resolved: l.resolved };
  },
  validate(text: string, label: string) {
    return validateText(text, label).issues;
  },
  async editFile(file: string, op: EditOp) {
    const l = await editConfigFile(file, apply(op));
    return { file: l.file, input: l.input, resolved: l.resolved };
  },
  /** the demo: edits of an in-memory text */
  editText(text: string, op: EditOp, label: string) {
    const doc = parseForEdit(text);
    apply(op)(doc);
    const next = renderEdited(doc, text);
    const r = validateText(next, label);
    if (r.issues.length || !r.input) throw new ConfigError(r.issues);
    return { text: next, input: r.input, resolved: resolveConfig(r.input) };
  },
};

export type ConfigOps = typeof ops;

process.on('message', async (msg: { id: number; op: keyof typeof ops; args: unknown[] }) => {
  try {
    const fn = ops[msg.op] as (...a: unknown[]) => unknown;
    const result = await fn(...msg.args);
    process.send?.({ id: msg.id, ok: true, result });
  } catch (e) {
    const error =
      e instanceof ConfigError
        ? { type: 'ConfigError', issues: e.issues }
        : isFluxError(e)
          ? { type: 'FluxError', message: e.message, code: e.code, exitCode: e.exitCode }
          : { type: 'Error', message: e instanceof Error ? e.message : String(e) };
    process.send?.({ id: msg.id, ok: false, error });
  }
});
// the agent closes the channel when the worker is idle, or is gone (kill -9): either way, exit
process.on('disconnect', () => process.exit(0));
