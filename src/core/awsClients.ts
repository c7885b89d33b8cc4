import http from 'node:http';
import https from 'node:https';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { createRequire } from 'node:module';
import type { SQSClient, SQSClientConfig } from '@aws-sdk/client-sqs';
import type { DynamoDBClient, DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { ConfigError } from './errors.js';
import type { Env } from './envFile.js';

/**
 * The SQS and DynamoDB SDKs are loaded when their client is first built, not at start-up: each costs 0.1–0.2 s
 * of CPU to load, and most commands (soak, inspect, convert from files) never use them.
 */
const load = createRequire(import.meta.url);
const sqsSdk = () => load('@aws-sdk/client-sqs') as typeof import('@aws-sdk/client-sqs');
const dynamodbSdk = () => load('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
const documentSdk = () => load('@aws-sdk/lib-dynamodb') as typeof import('@aws-sdk/lib-dynamodb');

/** Services the factory builds clients for. */
export const AwsService = { s3: 's3', sqs: 'sqs', dynamodb: 'dynamodb' } as const;
export type AwsService = (typeof AwsService)[keyof typeof AwsService];

/** Everything the client factory needs; resolved once at the edge by {@link resolveAwsSettings}. */
export interface AwsSettings {
  /** Region for signing and endpoint resolution; `undefined` lets the SDK resolve it (profile, IMDS). */
  readonly region: string | undefined;
  /** Per-service endpoint override (`AWS_ENDPOINT_URL_<SERVICE>`, else `AWS_ENDPOINT_URL`). */
  readonly endpoints: Readonly<Partial<Record<AwsService, string>>>;
  /** Sockets kept alive per client and host. @defaultValue 64 */
  readonly maxSockets: number;
  /** Attempts per call, first one included, with the SDK's adaptive retry strategy. @defaultValue 5 */
  readonly maxAttempts: number;
  /**
   * The SDK's retry mode. `adaptive` also rate-limits every later request of the client after a throttling
   * error, which is right for workers and wrong for a tool with its own retries and concurrency control
   * (soak uses `standard` with one attempt). @defaultValue `adaptive`
   */
  readonly retryMode?: 'standard' | 'adaptive';
  /** TCP connect timeout. @defaultValue 5000 */
  readonly connectionTimeoutMs: number;
  /** Socket idle timeout per request. @defaultValue 120000 */
  readonly requestTimeoutMs: number;
  /**
   * Static credentials from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN` when set and no
   * `AWS_PROFILE` is named; otherwise `undefined` and the SDK's default chain (profiles, SSO, IMDS, ECS).
   */
  readonly credentials: AwsCredentials | undefined;
}

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

function envCredentials(env: Env): AwsCredentials | undefined {
  const accessKeyId = env['AWS_ACCESS_KEY_ID'];
  const secretAccessKey = env['AWS_SECRET_ACCESS_KEY'];
  if (!accessKeyId || !secretAccessKey || env['AWS_PROFILE']) return undefined;
  const sessionToken = env['AWS_SESSION_TOKEN'];
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

const ENV_SUFFIX: Record<AwsService, string> = { s3: 'S3', sqs: 'SQS', dynamodb: 'DYNAMODB' };

function positiveInt(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new ConfigError(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

function endpointUrl(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  try {
    const u = new URL(raw);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new ConfigError(`${name} must be an http(s) URL, got ${JSON.stringify(raw)}`);
  }
  return raw;
}

/**
 * Resolve client settings from the environment, with the SDK's own variable names:
 * `AWS_REGION` (else `AWS_DEFAULT_REGION`), `AWS_ENDPOINT_URL_S3|SQS|DYNAMODB` (else `AWS_ENDPOINT_URL`),
 * `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN` (unless `AWS_PROFILE`); plus `BALER_MAX_SOCKETS` and `BALER_MAX_ATTEMPTS`. Explicit overrides (from flags) win.
 *
 * @example
 * resolveAwsSettings({ AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:7480' })
 */
export function resolveAwsSettings(env: Env, overrides: Partial<AwsSettings> = {}): AwsSettings {
  const endpoints: Partial<Record<AwsService, string>> = {};
  const common = endpointUrl(env, 'AWS_ENDPOINT_URL');
  for (const svc of Object.values(AwsService)) {
    const url = endpointUrl(env, `AWS_ENDPOINT_URL_${ENV_SUFFIX[svc]}`) ?? common;
    if (url) endpoints[svc] = url;
  }
  return {
    region: overrides.region ?? (env['AWS_REGION'] || env['AWS_DEFAULT_REGION'] || undefined),
    endpoints: { ...endpoints, ...overrides.endpoints },
    maxSockets: overrides.maxSockets ?? positiveInt(env, 'BALER_MAX_SOCKETS', 64),
    maxAttempts: overrides.maxAttempts ?? positiveInt(env, 'BALER_MAX_ATTEMPTS', 5),
    ...(overrides.retryMode ? { retryMode: overrides.retryMode } : {}),
    connectionTimeoutMs: overrides.connectionTimeoutMs ?? 5_000,
    requestTimeoutMs: overrides.requestTimeoutMs ?? 120_000,
    credentials: 'credentials' in overrides ? overrides.credentials : envCredentials(env),
  };
}

/**
 * Is this endpoint AWS itself? (`*.amazonaws.com`, `*.amazonaws.com.cn`, `*.api.aws`; no override = AWS.)
 * Non-AWS endpoints (radosgw, MinIO, R2, fakes) get path-style addressing and checksums only when required.
 */
export function isAwsEndpoint(url: string | undefined): boolean {
  if (url === undefined) return true;
  const host = new URL(url).hostname.toLowerCase();
  return /(^|\.)amazonaws\.com(\.cn)?$/.test(host) || /(^|\.)api\.aws$/.test(host);
}

function requestHandler(s: AwsSettings): NodeHttpHandler {
  const agentOptions = { keepAlive: true, maxSockets: s.maxSockets, keepAliveMsecs: 1_000 };
  return new NodeHttpHandler({
    httpAgent: new http.Agent(agentOptions),
    httpsAgent: new https.Agent(agentOptions),
    connectionTimeout: s.connectionTimeoutMs,
    requestTimeout: s.requestTimeoutMs,
  });
}

/** Client options shared by every service (pure: testable without a network). */
export function baseClientConfig(s: AwsSettings, service: AwsService) {
  const endpoint = s.endpoints[service];
  const nonAws = !isAwsEndpoint(endpoint);
  return {
    ...(s.region ? { region: s.region } : {}),
    ...(endpoint ? { endpoint } : {}),
    ...(s.credentials ? { credentials: s.credentials } : {}),
    maxAttempts: s.maxAttempts,
    retryMode: s.retryMode ?? 'adaptive',
    // SDK v3 sends streamed bodies aws-chunked with trailing checksums by default; radosgw rejects that and
    // other S3-compatible servers corrupt it. Checksums are still sent where the API requires them.
    ...(nonAws
      ? {
          requestChecksumCalculation: 'WHEN_REQUIRED' as const,
          responseChecksumValidation: 'WHEN_REQUIRED' as const,
        }
      : {}),
  };
}

/** S3 client options: {@link baseClientConfig} plus path-style addressing for non-AWS endpoints. */
export function s3ClientConfig(s: AwsSettings): S3ClientConfig {
  const base = baseClientConfig(s, 's3');
  return { ...base, forcePathStyle: !isAwsEndpoint(s.endpoints.s3) };
}

/** The clients of one process. Built once in the composition root, injected everywhere else. */
export interface AwsClients {
  readonly settings: AwsSettings;
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  readonly dynamodb: DynamoDBClient;
  readonly dynamodbDoc: DynamoDBDocumentClient;
  /** Close the clients' sockets. */
  destroy(): void;
}

/**
 * Build the S3, SQS and DynamoDB clients from resolved settings. Clients are created on first use.
 *
 * @example
 * const aws = createAwsClients(resolveAwsSettings(process.env));
 * await aws.s3.send(new ListBucketsCommand({}));
 */
export function createAwsClients(settings: AwsSettings): AwsClients {
  let s3: S3Client | undefined;
  let sqs: SQSClient | undefined;
  let dynamodb: DynamoDBClient | undefined;
  let doc: DynamoDBDocumentClient | undefined;
  const clients: AwsClients = {
    settings,
    get s3() {
      return (s3 ??= new S3Client({ ...s3ClientConfig(settings), requestHandler: requestHandler(settings) }));
    },
    get sqs() {
      const cfg: SQSClientConfig = {
        ...baseClientConfig(settings, 'sqs'),
        requestHandler: requestHandler(settings),
      };
      return (sqs ??= new (sqsSdk().SQSClient)(cfg));
    },
    get dynamodb() {
      const cfg: DynamoDBClientConfig = {
        ...baseClientConfig(settings, 'dynamodb'),
        requestHandler: requestHandler(settings),
      };
      return (dynamodb ??= new (dynamodbSdk().DynamoDBClient)(cfg));
    },
    get dynamodbDoc() {
      return (doc ??= documentSdk().DynamoDBDocumentClient.from(clients.dynamodb, {
        marshallOptions: { removeUndefinedValues: true },
      }));
    },
    destroy() {
      s3?.destroy();
      sqs?.destroy();
      dynamodb?.destroy();
    },
  };
  return clients;
}
