#!/usr/bin/env node
import './cli/bootstrap.js';
import { buildProgram } from './cli/program.js';
import { ExitCode } from './cli/exitCode.js';

const controller = new AbortController();
let interrupts = 0;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(ExitCode.Interrupted);
    controller.abort(new Error(`interrupted by ${sig}`));
  });
}

await buildProgram(controller).parseAsync(process.argv);
