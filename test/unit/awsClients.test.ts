import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ListQueuesCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import {
  createAwsClients,
  isAwsEndpoint,
  resolveAwsSettings,
  s3ClientConfig,
} from '../../src/core/awsClients.js';
import { ConfigError } from '../../src/core/errors.js';

describe('Function: resolveAwsSettings', () => {
  it('takes per-service endpoints before the common one, and the SDK variable names', () => {
    // Act
    const s = resolveAwsSettings({
      AWS_DEFAULT_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9000',
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:7480',
      AWS_ACCESS_KEY_ID: 'AK',
      AWS_SECRET_ACCESS_KEY: 'SK',
      BALER_MAX_SOCKETS: '8',
    });
    // Assess
    expect(s.region).toBe('eu-west-1');
    expect(s.endpoints).toEqual({
      s3: 'http://127.0.0.1:7480',
      sqs: 'http://127.0.0.1:9000',
      dynamodb: 'http://127.0.0.1:9000',
    });
    expect(s.maxSockets).toBe(8);
    expect(s.credentials).toEqual({ accessKeyId: 'AK', secretAccessKey: 'SK' });
  });

  it('prefers AWS_REGION and leaves credentials to the SDK chain when a profile is named', () => {
    const s = resolveAwsSettings({
      AWS_REGION: 'us-west-2',
      AWS_DEFAULT_REGION: 'eu-west-1',
      AWS_PROFILE: 'prod',
      AWS_ACCESS_KEY_ID: 'AK',
      AWS_SECRET_ACCESS_KEY: 'SK',
    });
    expect(s.region).toBe('us-west-2');
    expect(s.credentials).toBeUndefined();
    expect(s.endpoints).toEqual({});
  });

  it.each([
    [{ BALER_MAX_SOCKETS: '0' }, 'BALER_MAX_SOCKETS must be a positive integer, got "0"'],
    [{ BALER_MAX_ATTEMPTS: 'many' }, 'BALER_MAX_ATTEMPTS must be a positive integer, got "many"'],
    [
      { AWS_ENDPOINT_URL_S3: 'localhost:7480' },
      'AWS_ENDPOINT_URL_S3 must be an http(s) URL, got "localhost:7480"',
    ],
  ])('rejects %j with a usage error', (env, message) => {
    expect(() => resolveAwsSettings(env)).toThrow(ConfigError);
    expect(() => resolveAwsSettings(env)).toThrow(message);
  });
});

describe('Function: isAwsEndpoint', () => {
  it.each([
    [undefined, true],
    ['https://s3.eu-west-1.amazonaws.com', true],
    ['https://s3.cn-north-1.amazonaws.com.cn', true],
    ['https://s3.dualstack.us-east-1.api.aws', true],
    ['http://127.0.0.1:7480', false],
    ['https://account.r2.cloudflarestorage.com', false],
    ['https://amazonaws.com.evil.example', false],
  ])('%s -> %s', (url, expected) => {
    expect(isAwsEndpoint(url)).toBe(expected);
  });
});

describe('Function: s3ClientConfig', () => {
  it('uses path style and checksums only when required for a non-AWS endpoint', () => {
    const cfg = s3ClientConfig(
      resolveAwsSettings({ AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:7480' }),
    );
    expect(cfg).toMatchObject({
      endpoint: 'http://127.0.0.1:7480',
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      retryMode: 'adaptive',
      maxAttempts: 5,
    });
  });

  it('keeps virtual-hosted style and SDK checksum defaults on AWS', () => {
    const cfg = s3ClientConfig(resolveAwsSettings({ AWS_REGION: 'us-east-1' }));
    expect(cfg.forcePathStyle).toBe(false);
    expect(cfg).not.toHaveProperty('requestChecksumCalculation');
    expect(cfg).not.toHaveProperty('endpoint');
  });
});

describe('Function: createAwsClients', () => {
  it('builds each client once, with the resolved region and endpoint', async () => {
    // Prepare
    const aws = createAwsClients(
      resolveAwsSettings({ AWS_REGION: 'ap-south-1', AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:9324' }),
    );
    // Act
    const region = await aws.sqs.config.region();
    const endpoint = await aws.sqs.config.endpoint?.();
    // Assess
    expect(aws.sqs).toBe(aws.sqs);
    expect(region).toBe('ap-south-1');
    expect(endpoint?.hostname).toBe('127.0.0.1');
    expect(endpoint?.port).toBe(9324);
    aws.destroy();
  });

  it('reuses kept-alive sockets and never opens more than BALER_MAX_SOCKETS', async () => {
    // Prepare: a loopback server that answers every request after a short pause, counting sockets
    let open = 0;
    let peak = 0;
    let sockets = 0;
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{"QueueUrls":[]}');
        }, 20);
      });
    });
    server.on('connection', (socket) => {
      sockets += 1;
      open += 1;
      peak = Math.max(peak, open);
      socket.on('close', () => (open -= 1));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const aws = createAwsClients(
      resolveAwsSettings({
        AWS_REGION: 'us-east-1',
        AWS_ENDPOINT_URL_SQS: `http://127.0.0.1:${port}`,
        AWS_ACCESS_KEY_ID: 'AK',
        AWS_SECRET_ACCESS_KEY: 'SK',
        BALER_MAX_SOCKETS: '3',
      }),
    );
    // Act: 12 concurrent calls, then 3 more one after the other
    await Promise.all(Array.from({ length: 12 }, () => aws.sqs.send(new ListQueuesCommand({}))));
    for (let i = 0; i < 3; i++) await aws.sqs.send(new ListQueuesCommand({}));
    aws.destroy();
    server.close();
    // Assess
    expect(peak).toBe(3);
    expect(sockets).toBe(3);
  });
});
