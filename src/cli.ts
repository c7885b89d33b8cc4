#!/usr/bin/env node
import './cli/bootstrap.js';
import { buildProgram } from './cli/program.js';
import { ExitCode } from './cli/exitCode.js';

/** How long work may take to wind down after SIGINT/SIGTERM before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 30_000;

// A reader that goes away (`baler local status | head -1`) is not the command's failure: its output is no
// longer wanted, so later writes are dropped and the command ends with its own exit code instead of a crash.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
});

const controller = new AbortController();
let interrupts = 0;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(ExitCode.Interrupted);
    controller.abort(new Error(`interrupted by ${sig}`));
    // A request that hangs (e.g. S3 not answering) must not keep the process alive: whatever is still in
    // flight after the grace period is left to SQS (visibility timeout) and multipart-upload expiry.
    setTimeout(() => {
      process.stderr.write(`baler: still busy ${SHUTDOWN_GRACE_MS / 1000} s after ${sig}; exiting\n`);
      process.exit(ExitCode.Interrupted);
    }, SHUTDOWN_GRACE_MS).unref();
  });
}

await (await buildProgram(controller)).parseAsync(process.argv);
