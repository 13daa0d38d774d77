/**
 * A small parser of the Prometheus text exposition format (0.0.4) for tests: HELP/TYPE lines,
 * samples with labels (escaped quotes, backslashes, newlines), +Inf/-Inf/NaN. Strict: a line it
 * cannot read throws, so a malformed exposition fails the test.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  samples: Sample[];
  types: Map<string, string>;
  help: Map<string, string>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

export function parsePrometheus(text: string): Exposition {
  const out: Exposition = { samples: [], types: new Map(), help: new Map() };
  for (const [n, raw] of text.split('\n').entries()) {
    const line = raw.trimEnd();
    if (!line) continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) ?(.*)$/.exec(line);
      if (m) (m[1] === 'TYPE' ? out.types : out.help).set(m[2]!, m[3]!);
      if (m?.[1] === 'TYPE' && !['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(m[3]!)) throw new Error(`line ${n + 1}: bad type ${m[3]}`);
      continue;
    }
    const name = NAME.exec(line)?.[0];
    if (!name) throw new Error(`line ${n + 1}: no metric name: ${line}`);
    let i = name.length;
    const labels: Record<string, string> = {};
    if (line[i] === '{') {
      i++;
      while (line[i] !== '}') {
        const ln = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i))?.[0];
        if (!ln || line[i + ln.length] !== '=' || line[i + ln.length + 1] !== '"') throw new Error(`line ${n + 1}: bad label at ${i}: ${line}`);
        i += ln.length + 2;
        let v = '';
        for (;;) {
          const c = line[i];
          if (c === undefined) throw new Error(`line ${n + 1}: unterminated label value`);
          if (c === '\\') {
            const d = line[i + 1];
            v += d === 'n' ? '\n' : d;
            i += 2;
            continue;
          }
          i++;
          if (c === '"') break;
          v += c;
        }
        labels[ln] = v;
        if (line[i] === ',') i++;
      }
      i++;
    }
    const rest = line.slice(i).trim().split(/\s+/);
    const v = rest[0] === '+Inf' ? Infinity : rest[0] === '-Inf' ? -Infinity : rest[0] === 'NaN' || rest[0] === 'Nan' ? NaN : Number(rest[0]);
    if (rest[0] === undefined || (Number.isNaN(v) && !/^nan$/i.test(rest[0]))) throw new Error(`line ${n + 1}: bad value: ${line}`);
    out.samples.push({ name, labels, value: v });
  }
  return out;
}

/** The value of the one sample of `name` whose labels include `labels`; undefined when none. */
export function sample(e: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  const hits = e.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (hits.length > 1) throw new Error(`${hits.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return hits[0]?.value;
}
