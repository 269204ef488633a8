import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** One DynamoDB client per process. Endpoint from the SDK's own AWS_ENDPOINT_URL_DYNAMODB when set. */
export const dynamodb = new DynamoDBClient({});
export const ddb = DynamoDBDocumentClient.from(dynamodb, {
  marshallOptions: { removeUndefinedValues: true },
});
