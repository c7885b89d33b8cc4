import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { SourceResources } from '../core/config/index.js';
import { REPLICATION_PARAMETERS_KEY } from '../core/config/index.js';
import { BalerError } from '../core/errors.js';

/**
 * One item of the `replication-parameters` table (key `ParameterName` = `/{stack}/{bucket}[/{prefix}]`): what a
 * worker configured only by environment variables (the container form) needs to know about one source. Written
 * by `baler local up --config` and by the CDK app from the same `replication_config.json`.
 */
export const ReplicationParametersSchema = z.object({
  ParameterName: z.string().min(1),
  SourceRegion: z.string().min(1),
  SourceBucket: z.string().min(1),
  PrefixFilter: z.string(),
  SuffixFilter: z.string(),
  OutboundBucket: z.string().min(1),
  MaxBatchObjects: z.number().int().positive(),
  MaxBatchBytes: z.number().int().positive(),
  MaxBatchWaitSeconds: z.number().int().nonnegative(),
  Destinations: z.array(
    z.object({
      region: z.string().min(1),
      bucket: z.string().min(1),
      storage_class: z.string().optional(),
      kms_key_arn: z.string().optional(),
    }),
  ),
});
export type ReplicationParameters = z.infer<typeof ReplicationParametersSchema>;

/** The parameters item of a configured source. */
export function parametersItem(s: SourceResources): ReplicationParameters {
  return {
    ParameterName: s.parameterName,
    SourceRegion: s.source.region,
    SourceBucket: s.source.bucket,
    PrefixFilter: s.source.prefixFilter,
    SuffixFilter: s.source.suffixFilter,
    OutboundBucket: s.outboundBucket,
    MaxBatchObjects: s.source.maxBatchObjects,
    MaxBatchBytes: s.source.maxBatchBytes,
    MaxBatchWaitSeconds: s.source.maxBatchWaitSec,
    Destinations: s.source.destinations.map((d) => ({
      region: d.region,
      bucket: d.bucket,
      ...(d.storageClass ? { storage_class: d.storageClass } : {}),
      ...(d.kmsKeyArn ? { kms_key_arn: d.kmsKeyArn } : {}),
    })),
  };
}

/** Reads (with a short cache) and writes `replication-parameters` items. */
export class ParameterStore {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #ttlMs: number;
  readonly #cache = new Map<string, { at: number; value: ReplicationParameters | undefined }>();

  constructor(doc: DynamoDBDocumentClient, table: string, ttlMs = 60_000) {
    this.#doc = doc;
    this.#table = table;
    this.#ttlMs = ttlMs;
  }

  /** The item named `name`, or undefined when there is none. A malformed item is an error naming the field. */
  async get(name: string): Promise<ReplicationParameters | undefined> {
    const hit = this.#cache.get(name);
    if (hit && Date.now() - hit.at < this.#ttlMs) return hit.value;
    const r = await this.#doc.send(
      new GetCommand({
        TableName: this.#table,
        Key: { [REPLICATION_PARAMETERS_KEY]: name },
        ConsistentRead: true,
      }),
    );
    let value: ReplicationParameters | undefined;
    if (r.Item) {
      const parsed = ReplicationParametersSchema.safeParse(r.Item);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new BalerError(
          'PARAMETERS_INVALID',
          `${this.#table} item ${JSON.stringify(name)}: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`,
        );
      }
      value = parsed.data;
    }
    this.#cache.set(name, { at: Date.now(), value });
    return value;
  }

  async put(item: ReplicationParameters): Promise<void> {
    await this.#doc.send(new PutCommand({ TableName: this.#table, Item: item }));
    this.#cache.delete(item.ParameterName);
  }
}
