import { S3Client } from '@aws-sdk/client-s3';
import { config } from '../config';

// WHEN_REQUIRED: otherwise presigned PUT URLs carry a checksum of an empty body that uploads cannot match.
export const s3 = new S3Client({ forcePathStyle: config.S3_FORCE_PATH_STYLE, requestChecksumCalculation: 'WHEN_REQUIRED' });
