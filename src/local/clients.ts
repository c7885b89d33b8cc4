import { createAwsClients, resolveAwsSettings, type AwsClients } from '../core/awsClients.js';
import { localEnvVars, type LocalState } from './stack.js';
import { radosgwSns } from './smoke.js';
import type { ProvisionClients } from './provision.js';

/** AWS clients for the local stack described by `state`, signing for `region` (default: the stack's). */
export function clientsForState(state: LocalState, region?: string): AwsClients {
  const env = localEnvVars(state);
  return createAwsClients(resolveAwsSettings(region ? { ...env, AWS_REGION: region } : env));
}

/** The clients provisioning needs, with per-region SQS clients; `destroy` closes them all. */
export function provisionClients(state: LocalState): ProvisionClients & { destroy(): void } {
  const home = clientsForState(state);
  const perRegion = new Map<string, AwsClients>();
  const sns = radosgwSns(state);
  return {
    s3: home.s3,
    sns,
    dynamodb: home.dynamodb,
    sqsFor: (region) => {
      let c = perRegion.get(region);
      if (!c) {
        c = clientsForState(state, region);
        perRegion.set(region, c);
      }
      return c.sqs;
    },
    destroy: () => {
      home.destroy();
      sns.destroy();
      for (const c of perRegion.values()) c.destroy();
    },
  };
}
