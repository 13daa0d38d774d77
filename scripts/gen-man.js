#!/usr/bin/env node
/**
 * Generate man pages (roff) from the commands' own metadata in oclif.manifest.json
 * (summary, description, args, flags, examples) and package.json (topics, version):
 *   man/flux.1           overview: every command, global flags, environment, exit status
 *   man/flux-<topic>.1   one page per topic (flux-stream.1, flux-config.1, flux-node.1, flux-dvr.1 …)
 *   man/flux-<cmd>.1     one page per top-level command (flux-validate.1, flux-init.1 …)
 * Deterministic: sorted, no dates, so a stale man/ is caught by test/unit/cli/man.test.ts.
 *
 * Usage: npm run man                      (after npm run build; writes man/, removes stale pages)
 *        node scripts/gen-man.js --out DIR (write elsewhere)
 *        node scripts/gen-man.js --check   (exit 1 and list the differences when man/ is stale)
 */
import { readFileSync, writeFileSync, mkdirSync, readdirSync, rmSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const EXIT_STATUS = [
  ['0', 'success'],
  ['1', 'failure'],
  ['2', 'usage error'],
  ['3', 'invalid config'],
  ['4', 'node unreachable'],
  ['5', 'partial success'],
];

const ENVIRONMENT = [
  ['FLUX_CONFIG', 'config file used when --config is not given (default ./flux.yaml)'],
  ['FLUX_FFMPEG', 'ffmpeg binary to use (before server.ffmpeg in the config, then PATH)'],
  ['FLUX_LOG_LEVEL', 'log level of the daemons when the config does not set one'],
  ['FLUX_DEBUG', 'when set, errors also print their stack trace'],
];

// ---------------------------------------------------------------------------------------------
// roff helpers

const UNICODE = new Map([
  ['…', '...'],
  ['→', '->'],
  ['←', '<-'],
  ['—', '--'],
  ['–', '-'],
  ['“', '"'],
  ['”', '"'],
  ['‘', "'"],
  ['’', "'"],
]);

/** Escape text for roff: backslashes, hyphens (so flags copy-paste), non-ASCII punctuation, leading dots. */
export function esc(text) {
  let s = String(text);
  for (const [from, to] of UNICODE) s = s.split(from).join(to);
  s = s.replace(/\\/g, '\\e').replace(/-/g, '\\-');
  // anything else outside ASCII as a groff Unicode escape (portable to any man/troff)
  s = s.replace(/[^\x00-\x7f]/gu, (c) => `\\[u${c.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}]`);
  return s
    .split('\n')
    .map((l) => (/^[.']/.test(l) ? `\\&${l}` : l))
    .join('\n');
}

const bin = (s, id) => String(s ?? '').replace(/<%=\s*config\.bin\s*%>/g, 'flux').replace(/<%=\s*command\.id\s*%>/g, id ? id.replaceAll(':', ' ') : '');

/** Description text → roff paragraphs; indented blocks stay preformatted, ALL-CAPS first lines become bold headings. */
function paragraphs(text, id) {
  const out = [];
  const paras = bin(text, id).replace(/\r/g, '').split(/\n\s*\n/);
  for (const para of paras) {
    const lines = para.split('\n').filter((l) => l.trim() !== '');
    if (!lines.length) continue;
    let body = lines;
    if (/^[A-Z][A-Z0-9 ()/-]+:?$/.test(lines[0].trim()) && lines.length > 1) {
      out.push('.PP', `.B ${esc(lines[0].trim())}`);
      body = lines.slice(1);
      if (body.every((l) => /^\s/.test(l))) {
        out.push('.RS 4', '.nf', ...body.map((l) => esc(l.replace(/^\s+/, ''))), '.fi', '.RE');
        continue;
      }
      out.push('.br');
    } else if (lines.every((l) => /^\s/.test(l))) {
      out.push('.PP', '.RS 4', '.nf', ...lines.map((l) => esc(l.replace(/^\s+/, ''))), '.fi', '.RE');
      continue;
    } else {
      out.push('.PP');
    }
    out.push(esc(body.map((l) => l.trim()).join(' ')));
  }
  return out;
}

function flagLabel(f) {
  const long = f.allowNo ? `--[no-]${f.name}` : `--${f.name}`;
  const names = f.char ? `-${f.char}, ${long}` : long;
  return f.type === 'option' ? `${names}=<${f.helpValue ?? 'value'}>` : names;
}

function flagText(f) {
  let t = f.summary ?? f.description ?? '';
  const extra = [];
  if (f.options?.length) extra.push(`one of: ${f.options.join(', ')}`);
  if (f.default !== undefined && f.default !== false && typeof f.default !== 'object') extra.push(`default: ${f.default}`);
  if (f.multiple) extra.push('may be repeated');
  if (f.required) extra.push('required');
  if (extra.length) t += `${t ? ' ' : ''}[${extra.join('; ')}]`;
  return t;
}

/** Own flags first (sorted), then the global ones (sorted). */
function sortedFlags(cmd) {
  const flags = Object.values(cmd.flags ?? {}).filter((f) => !f.hidden);
  const global = (f) => f.helpGroup === 'GLOBAL';
  const byName = (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return [...flags.filter((f) => !global(f)).sort(byName), ...flags.filter(global).sort(byName)];
}

function argsOf(cmd) {
  return Object.values(cmd.args ?? {}).filter((a) => !a.hidden);
}

function synopsis(cmd) {
  const words = ['flux', ...cmd.id.split(':')];
  const args = argsOf(cmd).map((a, i, all) => {
    const name = a.name.toUpperCase() + (cmd.strict === false && i === all.length - 1 ? '...' : '');
    return a.required ? name : `[${name}]`;
  });
  const flags = sortedFlags(cmd).length ? ['[FLAGS]'] : [];
  return `.B ${esc(words.join(' '))}\n${[...args, ...flags].map(esc).join(' ')}`;
}

/** The body of one command: synopsis, description, arguments, flags, examples. */
function commandBody(cmd, heading) {
  const out = [];
  if (heading) out.push(`.SS ${esc(`flux ${cmd.id.replaceAll(':', ' ')}`)}`, esc(cmd.summary ?? ''), '.PP', synopsis(cmd));
  if (cmd.description) out.push(...(heading ? [] : ['.SH DESCRIPTION']), ...paragraphs(cmd.description, cmd.id));
  const args = argsOf(cmd);
  if (args.length) {
    out.push(heading ? '.PP\n.B Arguments' : '.SH ARGUMENTS');
    for (const a of args) {
      const opts = a.options?.length ? ` [one of: ${a.options.join(', ')}]` : '';
      out.push('.TP', `.I ${esc(a.name.toUpperCase())}`, esc(`${a.description ?? ''}${a.required ? ' (required)' : ''}${opts}`));
    }
  }
  const flags = sortedFlags(cmd);
  if (flags.length) {
    out.push(heading ? '.PP\n.B Flags' : '.SH FLAGS');
    for (const f of flags) out.push('.TP', `.B ${esc(flagLabel(f))}`, esc(flagText(f)));
  }
  const examples = (cmd.examples ?? []).map((e) => (typeof e === 'string' ? { command: e } : e));
  if (examples.length) {
    out.push(heading ? '.PP\n.B Examples' : '.SH EXAMPLES');
    for (const e of examples) {
      if (e.description) out.push('.PP', esc(bin(e.description, cmd.id)));
      out.push('.PP', '.RS 4', '.nf', esc(bin(e.command, cmd.id)), '.fi', '.RE');
    }
  }
  return out;
}

function header(name, version, title) {
  return [
    `.\\" Generated by scripts/gen-man.js from oclif.manifest.json. Do not edit: run \`npm run man\`.`,
    `.TH ${esc(name.toUpperCase())} 1 "" "flux ${esc(version)}" "Flux Manual"`,
    '.SH NAME',
    `${esc(name)} \\- ${esc(title)}`,
  ];
}

function exitStatus() {
  return ['.SH EXIT STATUS', ...EXIT_STATUS.flatMap(([c, t]) => ['.TP', `.B ${c}`, esc(t)])];
}

// ---------------------------------------------------------------------------------------------
// pages

/** Render every page: a Map of file name → content (sorted by name). */
export function renderPages(manifest, pkg) {
  const version = pkg.version ?? '0.0.0';
  const topicsMeta = pkg.oclif?.topics ?? {};
  const commands = Object.values(manifest.commands ?? {})
    .filter((c) => !c.hidden)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const topLevel = commands.filter((c) => !c.id.includes(':'));
  const topics = new Map();
  for (const c of commands.filter((c) => c.id.includes(':'))) {
    const t = c.id.split(':')[0];
    if (!topics.has(t)) topics.set(t, []);
    topics.get(t).push(c);
  }
  const topicNames = [...topics.keys()].sort();
  const pageOf = (c) => (c.id.includes(':') ? `flux-${c.id.split(':')[0]}` : `flux-${c.id}`);
  const pages = new Map();

  // flux.1
  const globalFlags = new Map();
  for (const c of commands) for (const f of sortedFlags(c)) if (f.helpGroup === 'GLOBAL' && !globalFlags.has(f.name)) globalFlags.set(f.name, f);
  const main = [
    ...header('flux', version, 'live video streaming server: config, node, streams, DVR'),
    '.SH SYNOPSIS',
    '.B flux',
    'COMMAND [ARGS] [FLAGS]',
    '.SH DESCRIPTION',
    ...paragraphs(
      `${pkg.description ?? ''}\n\nOne command line validates a declarative YAML config (flux.yaml), starts a node and talks to running nodes over a local Unix-socket API; the node runs one supervisor per stream around ffmpeg and a native HLS/DVR writer. Every command that prints something has a --json twin, and every failure is one line on stderr with a non-zero exit status.`,
    ),
    '.SH COMMANDS',
  ];
  for (const c of commands) main.push('.TP', `.B ${esc(`flux ${c.id.replaceAll(':', ' ')}`)}`, esc(`${c.summary ?? ''} See ${pageOf(c)}(1).`));
  if (globalFlags.size) {
    main.push('.SH GLOBAL FLAGS');
    for (const f of [...globalFlags.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) main.push('.TP', `.B ${esc(flagLabel(f))}`, esc(flagText(f)));
  }
  main.push('.SH ENVIRONMENT', ...ENVIRONMENT.flatMap(([k, v]) => ['.TP', `.B ${k}`, esc(v)]));
  main.push('.SH FILES', '.TP', '.B flux.yaml', esc('the config (see `flux init`, `flux validate`, `flux config schema`)'));
  main.push(...exitStatus());
  const seeAlso = [...topLevel.map(pageOf), ...topicNames.map((t) => `flux-${t}`)].sort();
  main.push('.SH SEE ALSO', seeAlso.map((p) => `.BR ${esc(p)} (1)`).join(',\n'));
  pages.set('flux.1', main.join('\n') + '\n');

  // one page per top-level command
  for (const c of topLevel) {
    const name = `flux-${c.id}`;
    const ownExitCodes = /^EXIT (CODES|STATUS)$/m.test(c.description ?? '');
    const lines = [...header(name, version, c.summary ?? c.id), '.SH SYNOPSIS', synopsis(c), ...commandBody(c, false), ...(ownExitCodes ? [] : exitStatus()), '.SH SEE ALSO', '.BR flux (1)'];
    pages.set(`${name}.1`, lines.join('\n') + '\n');
  }

  // one page per topic
  for (const t of topicNames) {
    const cmds = topics.get(t);
    const name = `flux-${t}`;
    const title = topicsMeta[t]?.description ?? `the ${t} commands`;
    const lines = [...header(name, version, title), '.SH SYNOPSIS'];
    cmds.forEach((c, i) => {
      if (i) lines.push('.br');
      lines.push(synopsis(c));
    });
    lines.push('.SH DESCRIPTION', esc(title.endsWith('.') ? title : `${title}.`), '.SH COMMANDS');
    for (const c of cmds) lines.push(...commandBody(c, true));
    lines.push(...exitStatus(), '.SH SEE ALSO', '.BR flux (1)');
    pages.set(`${name}.1`, lines.join('\n') + '\n');
  }
  return new Map([...pages.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
}

// ---------------------------------------------------------------------------------------------
// main

function main(argv) {
  const outIdx = argv.indexOf('--out');
  const check = argv.includes('--check');
  const outDir = outIdx >= 0 ? path.resolve(argv[outIdx + 1]) : path.join(ROOT, 'man');
  const manifestFile = path.join(ROOT, 'oclif.manifest.json');
  if (!existsSync(manifestFile)) {
    process.stderr.write('gen-man: oclif.manifest.json is missing: run `npm run build` first\n');
    return 1;
  }
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const pages = renderPages(manifest, pkg);
  const existing = existsSync(outDir) ? readdirSync(outDir).filter((f) => /\.1$/.test(f)) : [];
  if (check) {
    const problems = [];
    for (const [name, content] of pages) {
      const file = path.join(outDir, name);
      if (!existsSync(file)) problems.push(`missing ${name}`);
      else if (readFileSync(file, 'utf8') !== content) problems.push(`stale ${name}`);
    }
    for (const f of existing) if (!pages.has(f)) problems.push(`extra ${f}`);
    if (problems.length) {
      process.stderr.write(`man pages are out of date (${problems.join(', ')}): run \`npm run build && npm run man\` and commit man/\n`);
      return 1;
    }
    return 0;
  }
  mkdirSync(outDir, { recursive: true });
  for (const f of existing) if (!pages.has(f)) rmSync(path.join(outDir, f));
  for (const [name, content] of pages) writeFileSync(path.join(outDir, name), content);
  process.stderr.write(`wrote ${pages.size} man pages to ${path.relative(process.cwd(), outDir) || '.'}\n`);
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
