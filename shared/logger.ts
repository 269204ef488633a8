import { Logger } from '@aws-lambda-powertools/logger';

/** One structured logger per process; service name from POWERTOOLS_SERVICE_NAME. */
export const logger = new Logger();
