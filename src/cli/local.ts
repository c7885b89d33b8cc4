import { Command, InvalidArgumentError, Option } from 'commander';
import { localDown, localStatus, localUp, readLocalState, type LocalPorts } from '../local/stack.js';
import { provisionLocal } from '../local/provision.js';
import { loadConfigFiles, type Topology } from '../core/config/index.js';
import { runSmoke } from '../local/smoke.js';
import { ConfigError } from '../core/errors.js';
import type { CommandContext, MakeContext, Run } from './context.js';
import { ExitCode } from './exitCode.js';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new InvalidArgumentError(`port must be 1-65535, got ${value}`);
  return n;
}

function print(line = ''): void {
  process.stdout.write(line + '\n');
}

/** `baler local up`: bring the stack up and print where everything listens. */
export async function upAction(ctx: CommandContext, opts: Record<string, unknown>): Promise<ExitCode> {
  const configPath = typeof opts['config'] === 'string' ? opts['config'] : undefined;
  const settingsPath = typeof opts['settings'] === 'string' ? opts['settings'] : undefined;
  if ((configPath === undefined) !== (settingsPath === undefined)) {
    throw new ConfigError('--config and --settings go together: give both or neither');
  }
  // Validate before starting anything: a bad file is a usage error, not a half-provisioned stack.
  const loaded = configPath && settingsPath ? await loadConfigFiles(configPath, settingsPath) : undefined;
  const ports: Partial<Record<keyof LocalPorts, number>> = {};
  for (const k of ['s3', 'sqs', 'dynamodb', 'bridge', 'mon'] as const) {
    const v = opts[`${k}Port`];
    if (typeof v === 'number') ports[k] = v;
  }
  const t0 = Date.now();
  const state = await localUp({
    home: ctx.home,
    ports,
    ...(typeof opts['region'] === 'string' ? { region: opts['region'] } : {}),
    log: ctx.log,
    install: opts['install'] !== false,
  });
  let provisioned: Topology | undefined;
  if (loaded) {
    provisioned = await provisionLocal(ctx.home, state, loaded, ctx.log);
  }
  const seconds = (Date.now() - t0) / 1000;
  if (opts['json']) {
    print(
      JSON.stringify({
        ...state,
        secretKey: undefined,
        seconds,
        envFile: `${ctx.home}/local/env`,
        ...(provisioned
          ? { topology: { ...provisioned, sources: provisioned.sources.map(({ source: _s, ...r }) => r) } }
          : {}),
      }),
    );
  } else {
    print(`local stack up in ${seconds.toFixed(1)} s (region label ${state.region})`);
    print(`  S3 (Ceph radosgw)     http://127.0.0.1:${state.ports.s3}`);
    print(`  SQS (fauxqs)          http://127.0.0.1:${state.ports.sqs}`);
    print(`  DynamoDB (dynalite)   http://127.0.0.1:${state.ports.dynamodb}`);
    print(`  notification bridge   http://127.0.0.1:${state.ports.bridge}`);
    print(
      `  SDK settings          ${ctx.home}/local/env  (baler commands load it; 'set -a; . FILE' for other tools)`,
    );
    if (provisioned) {
      print(`provisioned stack ${provisioned.stackName}:`);
      for (const s of provisioned.sources) {
        print(
          `  source     s3://${s.source.bucket}/${s.source.prefixFilter} -> queue ${s.queueName} (${s.source.region})`,
        );
      }
      for (const t of provisioned.targets) {
        print(`  target     s3://${t.inboundBucket}/ -> queue ${t.queueName} (${t.region})`);
      }
      for (const r of provisioned.replicationRules) {
        print(`  replicate  s3://${r.outboundBucket}/${r.prefix} -> s3://${r.inboundBucket}/`);
      }
    }
  }
  return ExitCode.Success;
}

/** Register `baler local ...`. */
export function localCommand(makeContext: MakeContext, run: Run) {
  const local = new Command('local').description(
    'run an AWS-compatible stack on this machine: Ceph radosgw (S3), fauxqs (SQS), dynalite (DynamoDB)',
  );
  local
    .command('up')
    .description('start the local stack (idempotent) and write the SDK settings to .baler/local/env')
    .addOption(new Option('--s3-port <port>', 'radosgw S3 port (default 7480)').argParser(port))
    .addOption(new Option('--sqs-port <port>', 'fauxqs SQS port (default 9324)').argParser(port))
    .addOption(new Option('--dynamodb-port <port>', 'dynalite DynamoDB port (default 8000)').argParser(port))
    .addOption(new Option('--bridge-port <port>', 'notification bridge port (default 7490)').argParser(port))
    .addOption(new Option('--mon-port <port>', 'Ceph monitor port (default 3300)').argParser(port))
    .option('--region <region>', 'region label written as AWS_REGION (default us-east-1)')
    .option('--config <file>', 'replication_config.json to provision (with --settings)')
    .option('--settings <file>', 'settings.json to provision (with --config)')
    .option('--no-install', 'do not apt-get install missing Ceph packages')
    .option('--json', 'print the result as JSON')
    .action((opts: Record<string, unknown>) => run(() => upAction(makeContext('local'), opts)));
  local
    .command('status')
    .description('show each component, its pid and whether it answers; exit 1 unless all are up')
    .option('--json', 'print the result as JSON')
    .action((opts: { json?: boolean }) =>
      run(async () => {
        const ctx = makeContext('local');
        const status = await localStatus(ctx.home);
        const state = await readLocalState(ctx.home);
        if (opts.json) print(JSON.stringify({ home: ctx.home, region: state?.region, components: status }));
        else {
          for (const c of status) {
            const pid = c.pid === undefined ? 'stopped' : `pid ${c.pid}`;
            print(
              `${c.healthy ? 'up  ' : 'down'}  ${c.name.padEnd(20)} ${pid.padEnd(12)} ${c.endpoint ?? ''}`,
            );
          }
        }
        return status.every((c) => c.healthy) ? ExitCode.Success : ExitCode.Failure;
      }),
    );
  local
    .command('down')
    .description('stop the processes `local up` started (by pid file); data is kept unless --purge')
    .option('--purge', 'also delete .baler/local (buckets, tables, keys)')
    .action((opts: { purge?: boolean }) =>
      run(async () => {
        const ctx = makeContext('local');
        const stopped = await localDown(ctx.home, opts.purge ?? false);
        print(
          stopped.length
            ? `stopped ${stopped.length} processes (${stopped.join(', ')})`
            : 'nothing was running',
        );
        return ExitCode.Success;
      }),
    );
  local
    .command('smoke')
    .description(
      'check a running local stack end to end (S3 object round trip, notification -> SQS, DynamoDB)',
    )
    .action(() =>
      run(async () => {
        const ctx = makeContext('local');
        return smokeAction(ctx);
      }),
    );
  local
    .command('services', { hidden: true })
    .description('(internal) host fauxqs, dynalite and the notification bridge; started by `local up`')
    .requiredOption('--home <dir>')
    .requiredOption('--sqs-port <port>', '', port)
    .requiredOption('--dynamodb-port <port>', '', port)
    .requiredOption('--bridge-port <port>', '', port)
    .requiredOption('--s3-port <port>', '', port)
    .requiredOption('--region <region>')
    .action(
      (opts: {
        home: string;
        sqsPort: number;
        dynamodbPort: number;
        bridgePort: number;
        s3Port: number;
        region: string;
      }) =>
        run(async () => {
          const ctx = makeContext('local-services');
          // Loaded here only: fauxqs and dynalite weigh ~25 MiB that no other command should carry.
          const { runServices } = await import('../local/services.js');
          await runServices({
            dir: `${opts.home}/local`,
            sqsPort: opts.sqsPort,
            dynamodbPort: opts.dynamodbPort,
            bridgePort: opts.bridgePort,
            s3Port: opts.s3Port,
            region: opts.region,
            accessKey: ctx.env['AWS_ACCESS_KEY_ID'] ?? 'local',
            secretKey: ctx.env['AWS_SECRET_ACCESS_KEY'] ?? 'local',
            log: ctx.log,
          });
          return ExitCode.Success;
        }),
    );
  return local;
}

/** Run the smoke checks against the running stack and print one line per check. */
export async function smokeAction(ctx: CommandContext): Promise<ExitCode> {
  const state = await readLocalState(ctx.home);
  if (!state) throw new ConfigError(`no local stack under ${ctx.home}/local: run 'baler local up' first`);
  const checks = await runSmoke(ctx.aws(), state);
  for (const c of checks) print(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.name}: ${c.detail}`);
  return checks.every((c) => c.ok) ? ExitCode.Success : ExitCode.Failure;
}
