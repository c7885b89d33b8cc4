import { Command, Option } from 'commander';
import { errorMessage } from '../core/errors.js';
import { createContext, type CommandContext, type GlobalOptions } from './context.js';
import { ExitCode, exitCodeFor } from './exitCode.js';
import { localCommand, smokeAction, upAction } from './local.js';
import { localDown } from '../local/stack.js';
import { replicateCommands } from './replicate.js';
import { demoAction } from './demo.js';
import { archiveCommands } from './archive.js';
import { backfillCommand } from './backfill.js';
import { tuningCommand } from './tuning.js';
import { estimateCommand } from './estimate.js';
import { convertCommand } from './convert.js';
import { soakCommand } from './soak.js';

/** The version printed by `--version` (kept in step with package.json by a unit test). */
export const VERSION = '0.1.0';

/**
 * Build the `baler` program. Each command parses, builds its dependencies from the context and returns an
 * exit code; errors are printed on one line and mapped by {@link exitCodeFor}.
 */
export function buildProgram(controller: AbortController): Command {
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

  for (const c of replicateCommands(makeContext, run)) program.addCommand(c);
  for (const c of archiveCommands(makeContext, run)) program.addCommand(c);
  program.addCommand(backfillCommand(makeContext, run));
  program.addCommand(tuningCommand(makeContext, run));
  program.addCommand(estimateCommand(makeContext, run));
  program.addCommand(convertCommand(makeContext, run));
  program.addCommand(soakCommand(makeContext, run));
  program.addCommand(localCommand(makeContext, run));
  program
    .command('demo')
    .description(
      'replication end to end on the local stack: provision examples/local, upload a mixed dataset, run source and target workers, verify every object, print the savings (npm start)',
    )
    .option('--keep', 'leave the local stack running afterwards')
    .addOption(new Option('--small-objects <n>', 'number of small objects (default 3000)').argParser(Number))
    .addOption(new Option('--large-mib <n>', 'MiB of large objects (default 96)').argParser(Number))
    .action((opts: { keep?: boolean; smallObjects?: number; largeMib?: number }) =>
      run(() =>
        demoAction(makeContext, {
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
        const ctx = makeContext('smoke');
        await upAction(ctx, {});
        try {
          return await smokeAction(makeContext('smoke'));
        } finally {
          await localDown(ctx.home);
        }
      }),
    );
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
