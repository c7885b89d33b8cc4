import { readFileSync } from 'node:fs';
import path from 'node:path';

/** Environment variables as Node gives them: every value may be missing. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Where baler keeps local state (`.baler/` under the working directory unless `BALER_HOME` says otherwise).
 *
 * @example
 * balerHome({ BALER_HOME: '/srv/baler' }, '/work') // '/srv/baler'
 */
export function balerHome(env: Env, cwd: string): string {
  const home = env['BALER_HOME'];
  return home ? path.resolve(cwd, home) : path.join(cwd, '.baler');
}

/** The file `baler local up` writes with the SDK settings of the local stack. */
export function localEnvFile(home: string): string {
  return path.join(home, 'local', 'env');
}

/**
 * Parse a dotenv-style file: `KEY=value` lines, optional `export ` prefix, `#` comments, values optionally in
 * single or double quotes. Throws on a line that is none of these, naming the line number.
 *
 * @example
 * parseEnvFile('export AWS_REGION=us-east-1\n# comment\nA="b c"') // { AWS_REGION: 'us-east-1', A: 'b c' }
 */
export function parseEnvFile(text: string, source = 'env file'): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new Error(`${source}:${i + 1}: expected KEY=value, got ${JSON.stringify(raw)}`);
    const key = m[1] as string;
    let value = m[2] as string;
    if (value.length >= 2 && /^(['"]).*\1$/.test(value)) value = value.slice(1, -1);
    out[key] = value;
  }
  return out;
}

/** Render variables in the format {@link parseEnvFile} reads (and a POSIX shell can `source`). */
export function formatEnvFile(vars: Readonly<Record<string, string>>, header?: string): string {
  const lines = header ? header.split('\n').map((l) => `# ${l}`) : [];
  for (const [k, v] of Object.entries(vars)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`invalid variable name ${JSON.stringify(k)}`);
    lines.push(/^[A-Za-z0-9_./:@,+-]*$/.test(v) ? `${k}=${v}` : `${k}='${v.replace(/'/g, `'\\''`)}'`);
  }
  return lines.join('\n') + '\n';
}

/**
 * Read the local stack's env file, if there is one. Returns the variables (empty when the file is absent).
 * The CLI applies them over `process.env` so that a running local stack is the default target; pass
 * `--no-local-env` or set `BALER_NO_LOCAL_ENV=1` to ignore it.
 */
export function readLocalEnv(home: string): Record<string, string> {
  const file = localEnvFile(home);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e: unknown) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw e;
  }
  return parseEnvFile(text, file);
}
