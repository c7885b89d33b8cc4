import { createReadStream } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Command, Option } from 'commander';
import { inspectArchive, unpackToDirectory } from '../archive/index.js';
import { ConfigError } from '../core/errors.js';
import { isS3Url, parseS3Url } from '../core/s3Url.js';
import type { CommandContext, MakeContext, Run } from './context.js';
import { ExitCode } from './exitCode.js';

function print(line = ''): void {
  process.stdout.write(line + '\n');
}

/** Open an archive from a local path or an `s3://bucket/key` URL as a stream. */
async function openArchive(ctx: CommandContext, where: string): Promise<Readable> {
  if (isS3Url(where)) {
    const { bucket, key } = parseS3Url(where);
    if (key === '') throw new ConfigError(`${where}: name an object, not a bucket`);
    const r = await ctx
      .aws()
      .s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: ctx.signal });
    return r.Body as Readable;
  }
  return createReadStream(where);
}

/** Register `baler inspect` and `baler unpack`. */
export function archiveCommands(makeContext: MakeContext, run: Run): Command[] {
  const inspect = new Command('inspect')
    .description('verify an archive (local file or s3:// URL) and print its manifest and entries')
    .argument('<archive>', 'path or s3://bucket/key of a .tar.zst archive')
    .option('--json', 'print the whole inspection as JSON')
    .action((archive: string, opts: { json?: boolean }) =>
      run(async () => {
        const ctx = makeContext('inspect');
        const result = await inspectArchive(await openArchive(ctx, archive), { signal: ctx.signal });
        if (opts.json) {
          print(JSON.stringify(result));
          return ExitCode.Success;
        }
        const m = result.manifest;
        print(`archive      ${m.archiveId} (format ${m.format} v${m.formatVersion}, created ${m.created})`);
        print(
          `source       s3://${m.bucket}/${m.monitoredPrefix} (${m.sourceRegion}) -> ${m.targets.join(', ')}`,
        );
        print(
          `compression  level ${m.compressionLevel}: ${result.bytes} bytes in ${result.compressedBytes} ` +
            `(${(result.bytes / Math.max(1, result.compressedBytes)).toFixed(2)}x)`,
        );
        print(`objects      ${result.objects}, all verified against checksums.json`);
        for (const e of result.entries) {
          if (e.key === undefined) continue;
          const o = m.objects[e.index ?? -1];
          print(
            `  ${String(e.size).padStart(12)}  ${(o?.storageClass ?? 'STANDARD').padEnd(12)} ${JSON.stringify(e.key)}`,
          );
        }
        return ExitCode.Success;
      }),
    );
  const unpack = new Command('unpack')
    .description('verify an archive and write its objects under DIR by relative key (never outside DIR)')
    .argument('<archive>', 'path or s3://bucket/key of a .tar.zst archive')
    .argument('<dir>', 'directory to write into (created if missing)')
    .addOption(new Option('--json', 'print the result as JSON'))
    .action((archive: string, dir: string, opts: { json?: boolean }) =>
      run(async () => {
        const ctx = makeContext('unpack');
        const result = await unpackToDirectory(await openArchive(ctx, archive), path.resolve(dir), {
          signal: ctx.signal,
        });
        if (opts.json) {
          print(
            JSON.stringify({
              manifestPath: result.manifestPath,
              written: result.written,
              rejected: result.rejected.map((r) => ({
                key: r.key,
                relativeKey: r.relativeKey,
                reason: r.error.message,
              })),
              bytes: result.bytes,
            }),
          );
        } else {
          print(`wrote ${result.written.length} objects (${result.bytes} bytes) and ${result.manifestPath}`);
          for (const r of result.rejected) print(`rejected ${JSON.stringify(r.key)}: ${r.error.message}`);
        }
        // An object whose key cannot be a safe path is reported, not written: the command did not do everything.
        return result.rejected.length === 0 ? ExitCode.Success : ExitCode.Failure;
      }),
    );
  return [inspect, unpack];
}
