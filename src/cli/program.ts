import { Command, Option } from 'commander';
import { errorMessage } from '../core/errors.js';
import {
  createContext,
  type CommandContext,
  type GlobalOptions,
  type MakeContext,
  type Run,
} from './context.js';
import { ExitCode, exitCodeFor } from './exitCode.js';

/** Adds one module's commands to the program. */
type Registrar = (program: Command, makeContext: MakeContext, run: Run) => void;

/**
 * Every command module, in `--help` order, with the command names it defines. Only the module of the command
 * being run is imported (all of them for `--help` or an unknown command): loading every module (the SDK clients,
 * zstd, DuckDB, the local stack) took about 1 s before any work, which short commands such as `soak` felt.
 */
const COMMAND_MODULES: readonly {
  readonly names: readonly string[];
  readonly load: () => Promise<Registrar>;
}[] = [
  {
    names: ['source', 'target'],
    load: async () => {
      const m = await import('./replicate.js');
      return (p, mc, run) => {
        for (const c of m.replicateCommands(mc, run)) p.addCommand(c);
      };
    },
  },
  {
    names: ['inspect', 'unpack'],
    load: async () => {
      const m = await import('./archive.js');
      return (p, mc, run) => {
        for (const c of m.archiveCommands(mc, run)) p.addCommand(c);
      };
    },
  },
  { names: ['backfill'], load: async () => one((await import('./backfill.js')).backfillCommand) },
  { names: ['tuning'], load: async () => one((await import('./tuning.js')).tuningCommand) },
  { names: ['estimate'], load: async () => one((await import('./estimate.js')).estimateCommand) },
  { names: ['convert'], load: async () => one((await import('./convert.js')).convertCommand) },
  { names: ['soak'], load: async () => one((await import('./soak.js')).soakCommand) },
  { names: ['local', 'demo', 'smoke'], load: localAndDemo },
];

function one(make: (mc: MakeContext, run: Run) => Command): Registrar {
  return (p, mc, run) => {
    p.addCommand(make(mc, run));
  };
}

/** Global options that take a value (their value is not a command name). */
const GLOBAL_OPTIONS_WITH_VALUE = new Set(['--log-level']);

/** The command named on the command line, if any: the first argument that is neither an option nor its value. */
export function commandNameIn(argv: readonly string[]): string | undefined {
  for (let i = 2; i < argv.length; i += 1) {
    const a = argv[i] as string;
    if (GLOBAL_OPTIONS_WITH_VALUE.has(a)) {
      i += 1;
      continue;
    }
    if (!a.startsWith('-')) return a;
  }
  return undefined;
}

/** The version printed by `--version` (kept in step with package.json by a unit test). */
export const VERSION = '0.1.0';

/**
 * Build the `baler` program. Each command parses, builds its dependencies from the context and returns an
 * exit code; errors are printed on one line and mapped by {@link exitCodeFor}.
 */
export async function buildProgram(
  controller: AbortController,
  argv: readonly string[] = process.argv,
): Promise<Command> {
  const program = new Command('baler')
    .description('Move and reshape data in S3 cheaply and safely.')
    .version(VERSION)
    .option('--no-local-env', 'ignore .baler/local/env (the local stack settings) even when it exists')
    .addOption(new Option('--log-level <level>', 'trace|debug|info|warn|error|silent (env LOG_LEVEL)'))
    .showHelpAfterError()

    .configureOutput({
      outputError: (str, write) => {
        write(str);
      },
    });

  const makeContext = (service?: string): CommandContext =>
    createContext(program.opts<GlobalOptions>(), controller.signal, service);

  const run = async (fn: () => Promise<ExitCode>): Promise<void> => {
    try {
      process.exitCode = await fn();
    } catch (e: unknown) {
      process.stderr.write(`baler: ${errorMessage(e)}\n`);
      process.exitCode = exitCodeFor(e);
    }
  };

  const name = commandNameIn(argv);
  const named = COMMAND_MODULES.filter((m) => name !== undefined && m.names.includes(name));
  for (const m of named.length > 0 ? named : COMMAND_MODULES) (await m.load())(program, makeContext, run);
  applyToAll(program, (cmd) =>
    cmd.showHelpAfterError().exitOverride((err) => {
      // commander's own exits: help and version are successes, anything else is a usage error.
      process.exit(err.exitCode === 0 ? ExitCode.Success : ExitCode.Usage);
    }),
  );
  return program;
}

function applyToAll(cmd: Command, fn: (c: Command) => void): void {
  fn(cmd);
  for (const sub of cmd.commands) applyToAll(sub, fn);
}

async function localAndDemo(): Promise<Registrar> {
  const { localCommand, smokeAction, upAction } = await import('./local.js');
  const { localDown } = await import('../local/stack.js');
  const { demoAction } = await import('./demo.js');
  return (program, mc, run) => {
    program.addCommand(localCommand(mc, run));
    program
      .command('demo')
      .description(
        'replication end to end on the local stack: provision examples/local, upload a mixed dataset, run source and target workers, verify every object, print the savings (npm start)',
      )
      .option('--keep', 'leave the local stack running afterwards')
      .addOption(
        new Option('--small-objects <n>', 'number of small objects (default 3000)').argParser(Number),
      )
      .addOption(new Option('--large-mib <n>', 'MiB of large objects (default 96)').argParser(Number))
      .action((opts: { keep?: boolean; smallObjects?: number; largeMib?: number }) =>
        run(() =>
          demoAction(mc, {
            ...(opts.keep ? { keep: true } : {}),
            ...(opts.smallObjects !== undefined ? { smallObjects: opts.smallObjects } : {}),
            ...(opts.largeMib !== undefined ? { largeMiB: opts.largeMib } : {}),
          }),
        ),
      );
    program
      .command('smoke', { hidden: true })
      .description('bring the local stack up, run the smoke check, bring it down')
      .action(() =>
        run(async () => {
          const ctx = mc('smoke');
          await upAction(ctx, {});
          try {
            return await smokeAction(mc('smoke'));
          } finally {
            await localDown(ctx.home);
          }
        }),
      );
  };
}
