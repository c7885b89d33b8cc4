import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { createAwsClients, resolveAwsSettings, type AwsClients } from '../../src/core/awsClients.js';

/** Clients for the local stack the global setup started. */
export function localClients(region?: string): AwsClients {
  const env = inject('localEnv');
  return createAwsClients(resolveAwsSettings(region ? { ...env, AWS_REGION: region } : env));
}

/** A name no other test uses (buckets: 3-63 lowercase chars). */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/** Port of the notification bridge of the local stack. */
export function bridgePort(): number {
  return Number(inject('localEnv')['BALER_LOCAL_BRIDGE_PORT']);
}
