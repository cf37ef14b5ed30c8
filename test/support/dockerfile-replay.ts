import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, posix } from 'node:path';

/**
 * Replays a Dockerfile on this machine, without Docker: every stage gets a directory standing for its root
 * file system, WORKDIR and COPY paths are mapped into it, RUN runs with `bash -c` in the mapped WORKDIR with
 * only the stage's ENV and ARG values (plus PATH, and HOME inside the stage), and what only a container
 * runtime can honour (USER, EXPOSE, LABEL, HEALTHCHECK, CMD) is recorded for the caller. The base image
 * stands in as this machine's Node (callers check that its version matches the tag) and, given `npmCli`,
 * the npm that image bundles. Anything else throws, so the replay never silently diverges from `docker build`.
 */

export interface Instruction {
  keyword: string;
  /** The arguments after the keyword and its `--flags`, continuation lines joined. */
  args: string;
  flags: Record<string, string[]>;
  line: number;
}

export interface ParsedStage {
  index: number;
  name?: string;
  /** The FROM argument, before ARG substitution. */
  from: string;
  instructions: Instruction[];
}

export interface ParsedDockerfile {
  /** ARGs declared before the first FROM. */
  globalArgs: Instruction[];
  stages: ParsedStage[];
}

export interface HealthCheck {
  command: string[];
  intervalMs: number;
  timeoutMs: number;
  startPeriodMs: number;
  retries: number;
}

export interface StageResult {
  index: number;
  name: string;
  /** The base: an image reference, or the stage it was built from. */
  base: string;
  /** Stands for the stage's `/`. */
  root: string;
  /** WORKDIR inside the image, and where it is on this machine. */
  workdir: string;
  dir: string;
  /** PATH of the base image: this machine's, with the base image's npm first when it is given. */
  path: string;
  /** ENV values, as a container started from this stage would see them. */
  env: Record<string, string>;
  user: string;
  expose: string[];
  labels: Record<string, string>;
  healthcheck?: HealthCheck;
  cmd?: string[];
  durationMs: number;
  steps: { instruction: string; durationMs: number }[];
}

export interface ReplayOptions {
  /** The build context (the directory `docker build` is given). */
  contextDir: string;
  dockerfile?: string;
  /** Where stage roots, the filtered context and unnamed caches are created. */
  workDir: string;
  buildArgs?: Record<string, string>;
  /** Host directories for `RUN --mount=type=cache` targets (e.g. `/root/.npm`); a fresh one otherwise. */
  cacheDirs?: Record<string, string>;
  /**
   * The base image's npm (its `bin/npm-cli.js`), when this machine's differs: `npm` and `npx` on PATH run
   * it, for the build and for the containers started from a stage.
   */
  npmCli?: string;
  log?: (line: string) => void;
}

export interface ReplayResult {
  dockerfile: ParsedDockerfile;
  /** Files of the build context after .dockerignore, relative to it. */
  contextFiles: string[];
  stages: StageResult[];
  /** The last stage: what `docker build .` tags. */
  final: StageResult;
}

const SUPPORTED_FLAGS: Record<string, string[]> = {
  FROM: [],
  COPY: ['from'],
  RUN: ['mount'],
  HEALTHCHECK: ['interval', 'timeout', 'start-period', 'start-interval', 'retries'],
};

export function parseDockerfile(text: string): ParsedDockerfile {
  const instructions = logicalLines(text).map(({ text: line, number }) => parseInstruction(line, number));
  const globalArgs: Instruction[] = [];
  const stages: ParsedStage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
      if (!match) throw unsupported(instruction, 'expected FROM <image> [AS <name>]');
      stages.push({ index: stages.length, name: match[2]?.toLowerCase(), from: match[1], instructions: [] });
    } else if (stages.length === 0) {
      if (instruction.keyword !== 'ARG') throw unsupported(instruction, 'only ARG may come before the first FROM');
      globalArgs.push(instruction);
    } else {
      stages[stages.length - 1].instructions.push(instruction);
    }
  }
  if (stages.length === 0) throw new Error('Dockerfile has no FROM');
  return { globalArgs, stages };
}

/** Joins continuation lines and drops comments; parser directives other than `syntax` are refused. */
function logicalLines(text: string): { text: string; number: number }[] {
  const lines = text.split(/\r?\n/);
  const result: { text: string; number: number }[] = [];
  let directives = true;
  let current: { text: string; number: number } | undefined;
  lines.forEach((raw, index) => {
    const directive = /^#\s*([a-z]+)\s*=\s*(.*?)\s*$/i.exec(raw);
    if (directives && directive) {
      if (directive[1].toLowerCase() !== 'syntax') throw new Error(`unsupported parser directive: ${raw}`);
      return;
    }
    directives = false;
    if (/^\s*#/.test(raw)) return;
    if (!current && raw.trim() === '') return;
    const continued = /\\\s*$/.test(raw);
    const body = continued ? raw.replace(/\\\s*$/, '') : raw;
    current = current ? { text: `${current.text}${body}`, number: current.number } : { text: body, number: index + 1 };
    if (!continued) {
      result.push({ text: current.text.trim(), number: current.number });
      current = undefined;
    }
  });
  if (current) throw new Error(`Dockerfile ends inside a continued line (from line ${current.number})`);
  return result;
}

function parseInstruction(text: string, line: number): Instruction {
  const match = /^(\S+)\s*(.*)$/s.exec(text);
  if (!match) throw new Error(`line ${line}: cannot parse "${text}"`);
  const keyword = match[1].toUpperCase();
  let rest = match[2];
  const flags: Record<string, string[]> = {};
  let flag: RegExpExecArray | null;
  while ((flag = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(rest))) {
    (flags[flag[1]] ??= []).push(flag[2] ?? 'true');
    rest = rest.slice(flag[0].length);
  }
  const instruction = { keyword, args: rest.trim(), flags, line };
  const allowed = SUPPORTED_FLAGS[keyword] ?? [];
  for (const name of Object.keys(flags)) {
    if (!allowed.includes(name)) throw unsupported(instruction, `flag --${name}`);
  }
  if (/<<-?\s*["']?[A-Za-z_]/.test(rest) && ['RUN', 'COPY'].includes(keyword)) {
    throw unsupported(instruction, 'here-documents');
  }
  return instruction;
}

function unsupported(instruction: Instruction, what: string): Error {
  return new Error(
    `Dockerfile line ${instruction.line}: ${instruction.keyword} ${what} is not supported by the replay ` +
      '(extend test/support/dockerfile-replay.ts or keep the Dockerfile conventional)',
  );
}

export async function replayDockerfile(options: ReplayOptions): Promise<ReplayResult> {
  const log = options.log ?? (() => undefined);
  const dockerfile = parseDockerfile(
    readFileSync(options.dockerfile ?? join(options.contextDir, 'Dockerfile'), 'utf8'),
  );
  const buildArgs = options.buildArgs ?? {};

  const context = join(options.workDir, 'context');
  const contextFiles = buildContextFiles(options.contextDir);
  for (const file of contextFiles) {
    mkdirSync(dirname(join(context, file)), { recursive: true });
    cpSync(join(options.contextDir, file), join(context, file), { verbatimSymlinks: true, preserveTimestamps: true });
  }

  const path = [options.npmCli && npmShims(options.npmCli, join(options.workDir, 'bin')), process.env.PATH]
    .filter(Boolean)
    .join(':');

  const globals = globalArgs(dockerfile, buildArgs);
  const stages: StageResult[] = [];
  for (const parsed of dockerfile.stages) {
    const started = performance.now();
    const stage = startStage(parsed, substitute(parsed.from, globals), stages, options.workDir, path, false);
    log(`[${stage.name}] FROM ${stage.base}`);
    const args: Record<string, string> = {};
    for (const instruction of parsed.instructions) {
      const stepStarted = performance.now();
      log(`[${stage.name}] ${instruction.keyword} ${instruction.args}`.slice(0, 200));
      await apply(instruction, { stage, args, globals, buildArgs, context, stages, options, dryRun: false });
      stage.steps.push({
        instruction: `${instruction.keyword} ${instruction.args}`.slice(0, 80),
        durationMs: Math.round(performance.now() - stepStarted),
      });
    }
    stage.durationMs = Math.round(performance.now() - started);
    stages.push(stage);
  }
  return { dockerfile, contextFiles, stages, final: stages[stages.length - 1] };
}

/**
 * What `docker inspect` would say of the final stage (ENV, LABEL, USER, EXPOSE, WORKDIR, HEALTHCHECK, CMD),
 * read from the Dockerfile without building: COPY and RUN are skipped. `root` and `dir` are meaningless.
 */
export function inspectImage(text: string, buildArgs: Record<string, string> = {}): StageResult {
  const dockerfile = parseDockerfile(text);
  const globals = globalArgs(dockerfile, buildArgs);
  const options: ReplayOptions = { contextDir: '/nonexistent', workDir: '/nonexistent' };
  const stages: StageResult[] = [];
  for (const parsed of dockerfile.stages) {
    const stage = startStage(parsed, substitute(parsed.from, globals), stages, options.workDir, '', true);
    const args: Record<string, string> = {};
    const c: ApplyContext = { stage, args, globals, buildArgs, context: '', stages, options, dryRun: true };
    for (const instruction of parsed.instructions) {
      if (instruction.keyword !== 'COPY' && instruction.keyword !== 'RUN') applyMetadata(instruction, c);
    }
    stages.push(stage);
  }
  return stages[stages.length - 1];
}

function globalArgs(dockerfile: ParsedDockerfile, buildArgs: Record<string, string>): Record<string, string> {
  const globals: Record<string, string> = {};
  for (const instruction of dockerfile.globalArgs) {
    const [name, value] = parseArg(instruction, globals);
    globals[name] = buildArgs[name] ?? value ?? '';
  }
  return globals;
}

function npmShims(npmCli: string, bin: string): string {
  mkdirSync(bin, { recursive: true });
  for (const [name, script] of [
    ['npm', npmCli],
    ['npx', join(dirname(npmCli), 'npx-cli.js')],
  ]) {
    writeFileSync(join(bin, name), `#!/bin/sh\nexec node ${JSON.stringify(script)} "$@"\n`, { mode: 0o755 });
  }
  return bin;
}

function startStage(
  parsed: ParsedStage,
  base: string,
  built: StageResult[],
  workDir: string,
  path: string,
  dryRun: boolean,
): StageResult {
  const root = join(workDir, `stage-${parsed.index}${parsed.name ? `-${parsed.name}` : ''}`);
  const parent = findStage(built, base.toLowerCase());
  if (!dryRun) {
    if (parent) cpSync(parent.root, root, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    mkdirSync(join(root, 'root'), { recursive: true });
  }
  return {
    index: parsed.index,
    name: parsed.name ?? String(parsed.index),
    base,
    root,
    workdir: parent?.workdir ?? '/',
    dir: parent ? join(root, parent.workdir) : root,
    path,
    env: { ...parent?.env },
    user: parent?.user ?? 'root',
    expose: [...(parent?.expose ?? [])],
    labels: { ...parent?.labels },
    healthcheck: parent?.healthcheck,
    cmd: parent?.cmd,
    durationMs: 0,
    steps: [],
  };
}

function findStage(stages: StageResult[], ref: string): StageResult | undefined {
  return stages.find((stage) => stage.name === ref || String(stage.index) === ref);
}

interface ApplyContext {
  stage: StageResult;
  args: Record<string, string>;
  globals: Record<string, string>;
  buildArgs: Record<string, string>;
  context: string;
  stages: StageResult[];
  options: ReplayOptions;
  /** Metadata only (inspectImage): nothing is written. */
  dryRun: boolean;
}

async function apply(instruction: Instruction, c: ApplyContext): Promise<void> {
  if (instruction.keyword === 'COPY') copy(instruction, c, { ...c.args, ...c.stage.env });
  else if (instruction.keyword === 'RUN') await run(instruction, c);
  else applyMetadata(instruction, c);
}

/** Every instruction but COPY and RUN: they change the image's configuration, not its files. */
function applyMetadata(instruction: Instruction, c: ApplyContext): void {
  const { stage } = c;
  const vars = { ...c.args, ...stage.env };
  switch (instruction.keyword) {
    case 'ARG': {
      const [name, value] = parseArg(instruction, vars);
      c.args[name] = c.buildArgs[name] ?? value ?? c.globals[name] ?? '';
      return;
    }
    case 'ENV':
      Object.assign(stage.env, parsePairs(instruction, vars, true));
      return;
    case 'LABEL':
      Object.assign(stage.labels, parsePairs(instruction, vars, false));
      return;
    case 'WORKDIR':
      stage.workdir = posix.resolve(stage.workdir, substitute(instruction.args, vars));
      stage.dir = join(stage.root, stage.workdir);
      if (!c.dryRun) mkdirSync(stage.dir, { recursive: true });
      return;
    case 'USER':
      stage.user = substitute(instruction.args, vars);
      return;
    case 'EXPOSE':
      stage.expose.push(...words(substitute(instruction.args, vars)));
      return;
    case 'CMD':
      stage.cmd = commandOf(instruction.args);
      return;
    case 'HEALTHCHECK':
      stage.healthcheck = parseHealthcheck(instruction);
      return;
    default:
      throw unsupported(instruction, 'instruction');
  }
}

function parseArg(instruction: Instruction, vars: Record<string, string>): [string, string | undefined] {
  const match = /^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/.exec(instruction.args);
  if (!match) throw unsupported(instruction, 'with several names or without a name');
  return [match[1], match[2] === undefined ? undefined : unquote(substitute(match[2], vars))];
}

/** `KEY=value KEY2="quoted value"` (ENV also takes the legacy `KEY value`). */
function parsePairs(instruction: Instruction, vars: Record<string, string>, legacy: boolean): Record<string, string> {
  const tokens = shellWords(instruction.args);
  if (legacy && tokens.length > 0 && !tokens[0].includes('=')) {
    const [key] = tokens;
    return { [key]: substitute(instruction.args.slice(instruction.args.indexOf(key) + key.length).trim(), vars) };
  }
  const pairs: Record<string, string> = {};
  for (const token of tokens) {
    const index = token.indexOf('=');
    if (index <= 0) throw unsupported(instruction, `"${token}" (expected KEY=value)`);
    pairs[token.slice(0, index)] = substitute(token.slice(index + 1), { ...vars, ...pairs });
  }
  return pairs;
}

function copy(instruction: Instruction, c: ApplyContext, vars: Record<string, string>): void {
  const { stage } = c;
  const from = instruction.flags.from?.[0];
  let sourceRoot = c.context;
  if (from !== undefined) {
    const source = findStage(c.stages, substitute(from, vars).toLowerCase());
    if (!source) throw unsupported(instruction, `--from=${from} (only earlier stages)`);
    sourceRoot = source.root;
  }
  const parts = (isJsonArray(instruction.args) ? jsonArray(instruction.args) : words(instruction.args)).map((part) =>
    substitute(part, vars),
  );
  if (parts.length < 2) throw unsupported(instruction, 'without a source and a destination');
  const destination = parts.pop()!;
  const target = join(stage.root, posix.resolve(stage.workdir, destination));
  const sources = parts.flatMap((pattern) => expand(sourceRoot, pattern, instruction));
  const intoDirectory =
    destination.endsWith('/') || parts.length > 1 || (existsSync(target) && lstatSync(target).isDirectory());
  for (const source of sources) {
    const isDirectory = lstatSync(source).isDirectory();
    const to = isDirectory || !intoDirectory ? target : join(target, source.slice(source.lastIndexOf('/') + 1));
    mkdirSync(isDirectory ? to : dirname(to), { recursive: true });
    cpSync(source, to, { recursive: true, force: true, verbatimSymlinks: true, preserveTimestamps: true });
  }
}

/** Source paths are relative to the context (or to the other stage's `/`); `*` and `?` match in the last part. */
function expand(root: string, pattern: string, instruction: Instruction): string[] {
  const relative = posix.normalize(pattern.replace(/^\/+/, '')).replace(/\/+$/, '');
  if (relative.startsWith('..')) throw unsupported(instruction, `source outside the context (${pattern})`);
  if (!/[*?[]/.test(relative)) {
    const path = relative === '.' ? root : join(root, relative);
    if (!existsSync(path)) throw new Error(`Dockerfile line ${instruction.line}: COPY source ${pattern} not found`);
    return [path];
  }
  const dir = posix.dirname(relative);
  if (/[*?[]/.test(dir)) throw unsupported(instruction, `wildcards in directories (${pattern})`);
  const matcher = new RegExp(`^${globToRegex(posix.basename(relative))}$`);
  const matches = existsSync(join(root, dir))
    ? readdirSync(join(root, dir))
        .filter((name) => matcher.test(name))
        .map((name) => join(root, dir, name))
    : [];
  if (matches.length === 0) throw new Error(`Dockerfile line ${instruction.line}: COPY ${pattern} matches nothing`);
  return matches;
}

async function run(instruction: Instruction, c: ApplyContext): Promise<void> {
  const { stage } = c;
  if (stage.user !== 'root' && stage.user !== '0') throw unsupported(instruction, `as user ${stage.user}`);
  const argv = isJsonArray(instruction.args) ? jsonArray(instruction.args) : ['bash', '-c', instruction.args];
  // Commands run on this machine's file system: an absolute path would escape the stage.
  if (argv.some((arg) => /(^|[\s=:'"])\/[A-Za-z]/.test(arg))) {
    throw unsupported(instruction, 'with an absolute path (use paths relative to WORKDIR)');
  }
  const restore = mountCaches(instruction, c);
  try {
    const { code, output } = await execute(argv, { cwd: stage.dir, env: { ...buildEnv(stage), ...c.args } });
    if (code !== 0) {
      throw new Error(
        `Dockerfile line ${instruction.line} (stage ${stage.name}): RUN ${instruction.args} exited ${code}\n${output}`,
      );
    }
  } finally {
    restore();
  }
}

/** `--mount=type=cache,target=…`: a symbolic link to a cache directory for the duration of the RUN. */
function mountCaches(instruction: Instruction, c: ApplyContext): () => void {
  const undo: (() => void)[] = [];
  for (const spec of cacheMounts(instruction)) {
    const target = join(c.stage.root, posix.resolve(c.stage.workdir, spec.target));
    const source = c.options.cacheDirs?.[spec.target] ?? join(c.options.workDir, 'cache', spec.id);
    mkdirSync(source, { recursive: true });
    mkdirSync(dirname(target), { recursive: true });
    const aside = existsSync(target) ? `${target}.replay-masked` : undefined;
    if (aside) renameSync(target, aside);
    symlinkSync(source, target, 'dir');
    undo.push(() => {
      rmSync(target, { force: true });
      if (aside) renameSync(aside, target);
    });
  }
  return () => undo.reverse().forEach((step) => step());
}

function cacheMounts(instruction: Instruction): { target: string; id: string }[] {
  return (instruction.flags.mount ?? []).map((raw) => {
    const spec = Object.fromEntries(
      raw.split(',').map((part) => {
        const [key, ...value] = part.split('=');
        return [key, value.join('=')];
      }),
    );
    const known = ['type', 'target', 'id', 'sharing'];
    if (spec.type !== 'cache' || !spec.target || Object.keys(spec).some((key) => !known.includes(key))) {
      throw unsupported(instruction, `--mount=${raw} (only type=cache,target=…[,id=…][,sharing=…])`);
    }
    return { target: spec.target, id: (spec.id || spec.target).replace(/[^A-Za-z0-9._-]+/g, '_') };
  });
}

/** The environment of a build step: the image's PATH (this machine's Node), HOME in the stage, ENV. */
function buildEnv(stage: StageResult): Record<string, string> {
  return { PATH: stage.path, HOME: join(stage.root, 'root'), ...stage.env };
}

/**
 * The environment a container of this stage starts with: PATH, HOME (the user's, in the stage; it need not
 * exist, as with `USER node` on a read-only root file system) and the stage's ENV. ARG values do not persist.
 */
export function imageEnv(stage: StageResult): Record<string, string> {
  const home = stage.user === 'root' || stage.user === '0' ? '/root' : `/home/${stage.user}`;
  return { PATH: stage.path, HOME: join(stage.root, home), ...stage.env };
}

export interface Execution {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/** Runs a command to completion, capturing stdout and stderr together; kills it after `timeoutMs`. */
export async function execute(
  argv: string[],
  options: { cwd: string; env: Record<string, string>; timeoutMs?: number },
): Promise<Execution> {
  const child = spawn(argv[0], argv.slice(1), {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
  try {
    const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
    return { code, signal, output };
  } finally {
    clearTimeout(timer);
  }
}

/** CMD or HEALTHCHECK CMD: the exec form as written, the shell form through `/bin/sh -c` as Docker does. */
function commandOf(args: string): string[] {
  return isJsonArray(args) ? jsonArray(args) : ['/bin/sh', '-c', args];
}

function parseHealthcheck(instruction: Instruction): HealthCheck | undefined {
  if (/^NONE$/i.test(instruction.args)) return undefined;
  const match = /^CMD\s+(.+)$/is.exec(instruction.args);
  if (!match) throw unsupported(instruction, 'without CMD');
  const flag = (name: string) => instruction.flags[name]?.[0];
  return {
    command: commandOf(match[1].trim()),
    intervalMs: duration(flag('interval') ?? '30s'),
    timeoutMs: duration(flag('timeout') ?? '30s'),
    startPeriodMs: duration(flag('start-period') ?? '0s'),
    retries: Number(flag('retries') ?? 3),
  };
}

/** Go durations as Docker takes them: `30s`, `1m30s`, `500ms`. */
function duration(text: string): number {
  const units: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== text) throw new Error(`invalid duration ${text}`);
  return parts.reduce((total, [, value, unit]) => total + Number(value) * units[unit], 0);
}

function isJsonArray(args: string): boolean {
  if (!args.startsWith('[')) return false;
  try {
    const value: unknown = JSON.parse(args);
    return Array.isArray(value) && value.every((item) => typeof item === 'string');
  } catch {
    return false;
  }
}

function jsonArray(args: string): string[] {
  return JSON.parse(args) as string[];
}

function words(text: string): string[] {
  return text.split(/\s+/).filter(Boolean);
}

/** Splits on unquoted white space, removing quotes and backslash escapes (ENV and LABEL values). */
function shellWords(text: string): string[] {
  const result: string[] = [];
  let current = '';
  let quote: string | undefined;
  let started = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '\\' && quote !== "'" && i + 1 < text.length) {
      current += text[++i];
      started = true;
    } else if (quote) {
      if (char === quote) quote = undefined;
      else current += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      started = true;
    } else if (/\s/.test(char)) {
      if (started) result.push(current);
      current = '';
      started = false;
    } else {
      current += char;
      started = true;
    }
  }
  if (quote) throw new Error(`unterminated quote in: ${text}`);
  if (started) result.push(current);
  return result;
}

function unquote(text: string): string {
  const [word = ''] = shellWords(text);
  return word;
}

/** Docker's variable substitution: `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR:+alternative}`, `\$`. */
export function substitute(text: string, vars: Record<string, string>): string {
  return text.replace(
    /\\\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (whole, braced?: string, operator?: string, word?: string, bare?: string) => {
      if (whole === '\\$') return '$';
      const value = vars[(braced ?? bare)!];
      if (operator === '-') return value ? value : (word ?? '');
      if (operator === '+') return value ? (word ?? '') : '';
      return value ?? '';
    },
  );
}

function globToRegex(pattern: string): string {
  let regex = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === '*') {
      if (pattern[i + 1] === '*') {
        // `**/` is any number of directories, none included; a trailing `**` is anything.
        const slash = pattern[i + 2] === '/';
        regex += slash ? '(?:.*/)?' : '.*';
        i += slash ? 2 : 1;
      } else {
        regex += '[^/]*';
      }
    } else if (char === '?') {
      regex += '[^/]';
    } else if (char === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) throw new Error(`unterminated character class in ${pattern}`);
      regex += `[${pattern
        .slice(i + 1, end)
        .replace(/^!/, '^')
        .replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (char === '\\' && i + 1 < pattern.length) {
      regex += escapeRegex(pattern[++i]);
    } else {
      regex += escapeRegex(char);
    }
  }
  return regex;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

interface IgnoreRule {
  negated: boolean;
  segments: string[];
  regex: RegExp;
}

/** .dockerignore as Docker reads it: Go `filepath.Match` patterns plus `**`, `!` exceptions, last match wins. */
export function parseDockerignore(text: string): IgnoreRule[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const negated = line.startsWith('!');
      const pattern = posix.normalize(line.slice(negated ? 1 : 0).trim()).replace(/^\/+|\/+$/g, '');
      return { negated, segments: pattern.split('/'), regex: new RegExp(`^${globToRegex(pattern)}$`) };
    });
}

/** A path is excluded when the last rule matching it or one of its parent directories is not an exception. */
export function isExcluded(rules: IgnoreRule[], path: string): boolean {
  const parts = path.split('/');
  const prefixes = parts.map((_, index) => parts.slice(0, index + 1).join('/'));
  let excluded = false;
  for (const rule of rules) {
    if (prefixes.some((prefix) => rule.regex.test(prefix))) excluded = !rule.negated;
  }
  return excluded;
}

/** Whether an exception could re-include something below an excluded directory (so it must be walked). */
function exceptionBelow(rules: IgnoreRule[], dir: string): boolean {
  const parts = dir.split('/');
  return rules.some(
    (rule) =>
      rule.negated &&
      (rule.segments.some((segment) => segment.includes('**')) ||
        (rule.segments.length > parts.length &&
          parts.every((part, index) => new RegExp(`^${globToRegex(rule.segments[index])}$`).test(part)))),
  );
}

/** The files `docker build` would send: every file under the context that .dockerignore does not exclude. */
export function buildContextFiles(contextDir: string): string[] {
  const ignoreFile = join(contextDir, '.dockerignore');
  const rules = existsSync(ignoreFile) ? parseDockerignore(readFileSync(ignoreFile, 'utf8')) : [];
  const files: string[] = [];
  const walk = (relative: string) => {
    for (const entry of readdirSync(join(contextDir, relative), { withFileTypes: true })) {
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      const excluded = isExcluded(rules, path);
      if (entry.isDirectory()) {
        if (!excluded || exceptionBelow(rules, path)) walk(path);
      } else if (!excluded) {
        files.push(path);
      }
    }
  };
  walk('');
  return files.sort();
}
