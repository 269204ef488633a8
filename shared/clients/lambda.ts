import { LambdaClient } from '@aws-sdk/client-lambda';

/** Short timeouts: the access provider must answer in about a second or count as DENY. */
export const lambda = new LambdaClient({ maxAttempts: 1 });
