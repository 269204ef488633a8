import { S3Client } from '@aws-sdk/client-s3';
import { config } from '../config';

export const s3 = new S3Client({ forcePathStyle: config.S3_FORCE_PATH_STYLE });
