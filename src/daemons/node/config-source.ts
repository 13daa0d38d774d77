/**
 * Where the node's config comes from: a file (validated, edited atomically with comments kept,
 * watched for changes) or the embedded demo (no file: edits live in memory only).
 */
import { stringify, type Document } from 'yaml';
import { loadConfigFile, validateText } from '../../config/load.js';
import { editConfigFile, parseForEdit, renderEdited } from '../../config/edit.js';
import { resolveConfig } from '../../config/resolve.js';
import type { ConfigInput } from '../../config/schema.js';
import type { ResolvedConfig } from '../../config/model.js';
import { ConfigError } from '../../core/errors.js';
import { DEMO_DIRS } from '../../client/locate.js';

export interface ConfigSnapshot {
  input: ConfigInput;
  resolved: ResolvedConfig;
}

/**
 * The embedded demo: one fake:// test pattern with a tone, data/run dirs under ./data and ./run.
 * RTMP is off so that a fresh machine with something on :1935 still starts.
 */
export function demoConfig(): ConfigInput {
  return {
    // FLUX_DEMO_HTTP / FLUX_DEMO_HOST: port and address of the demo (tests; default 8080 on all addresses)
    server: { http: Number(process.env.FLUX_DEMO_HTTP) || 8080, ...(process.env.FLUX_DEMO_HOST ? { host: process.env.FLUX_DEMO_HOST } : {}), rtmp: false, data_dir: DEMO_DIRS.data, run_dir: DEMO_DIRS.run },
    streams: {
      demo: {
        title: 'Flux demo: test pattern with a 1 kHz tone',
        inputs: [{ url: 'fake://testsrc?size=640x360&fps=25&tone=1&freq=1000' }],
        hls: { segment_duration: '2s', window: 6 },
      },
    },
  };
}

export class ConfigSource {
  private demoText: string | undefined;
  private constructor(
    /** absolute path, undefined for the demo */
    readonly file: string | undefined,
    public current: ConfigSnapshot,
  ) {}

  get demo(): boolean {
    return this.file === undefined;
  }

  static async fromFile(file: string): Promise<ConfigSource> {
    const loaded = await loadConfigFile(file);
    return new ConfigSource(loaded.file, { input: loaded.input, resolved: loaded.resolved });
  }

  static demo(): ConfigSource {
    const input = demoConfig();
    const src = new ConfigSource(undefined, { input, resolved: resolveConfig(input) });
    src.demoText = stringify(input);
    return src;
  }

  /** Re-read the file; throws ConfigError (and keeps the current config) when it is invalid. */
  async reload(): Promise<ConfigSnapshot> {
    if (!this.file) return this.current;
    const loaded = await loadConfigFile(this.file);
    this.current = { input: loaded.input, resolved: loaded.resolved };
    return this.current;
  }

  /** Apply an edit; validated first (ConfigError with every issue, nothing changed), then persisted. */
  async edit(fn: (doc: Document) => void): Promise<ConfigSnapshot> {
    if (this.file) {
      const loaded = await editConfigFile(this.file, fn);
      this.current = { input: loaded.input, resolved: loaded.resolved };
      return this.current;
    }
    const text = this.demoText ?? '';
    const doc = parseForEdit(text);
    fn(doc);
    const next = renderEdited(doc, text);
    const r = validateText(next, '(demo)');
    if (r.issues.length || !r.input) throw new ConfigError(r.issues);
    this.demoText = next;
    this.current = { input: r.input, resolved: resolveConfig(r.input) };
    return this.current;
  }
}
