#!/usr/bin/env node
import { buildProgram } from './cli/program.js';
import { ExitCode } from './cli/exitCode.js';

// The SDK version is pinned by package-lock.json; its notice about future releases needing Node 22 is noise
// on every command's stderr.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

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
