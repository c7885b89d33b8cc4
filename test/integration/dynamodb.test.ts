import { ConditionalCheckFailedException, CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../src/core/awsClients.js';
import { localClients, uniqueName } from './helpers.js';

describe('Local stack: DynamoDB (dynalite)', () => {
  let aws: AwsClients;
  const table = uniqueName('compression-settings');

  beforeAll(async () => {
    aws = localClients();
    await aws.dynamodb.send(
      new CreateTableCommand({
        TableName: table,
        AttributeDefinitions: [{ AttributeName: 'BucketPrefix', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'BucketPrefix', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await aws.dynamodbDoc.send(
      new PutCommand({ TableName: table, Item: { BucketPrefix: 'bkt/p', Version: 1 } }),
    );
  });
  afterAll(() => {
    aws.destroy();
  });

  const bump = (seen: number) =>
    aws.dynamodbDoc.send(
      new UpdateCommand({
        TableName: table,
        Key: { BucketPrefix: 'bkt/p' },
        UpdateExpression: 'SET Version = :next',
        ConditionExpression: 'Version = :seen',
        ExpressionAttributeValues: { ':seen': seen, ':next': seen + 1 },
      }),
    );

  it('applies a conditional update on the current version and refuses a stale one', async () => {
    // Act
    await bump(1);
    const stale = bump(1);
    // Assess
    await expect(stale).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    const item = await aws.dynamodbDoc.send(
      new GetCommand({ TableName: table, Key: { BucketPrefix: 'bkt/p' } }),
    );
    expect(item.Item).toEqual({ BucketPrefix: 'bkt/p', Version: 2 });
  });
});
