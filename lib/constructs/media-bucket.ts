import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';

export interface MediaBucketProps {
  /** Retain both buckets when the stack is deleted (production). */
  readonly retain: boolean;
  /** Origins browsers upload from (presigned PUT) and download from (presigned GET). */
  readonly corsOrigins: readonly string[];
  /** Days the server access logs are kept. */
  readonly accessLogDays?: number;
}

/**
 * Private media: all public access blocked, TLS only, S3-managed encryption, server
 * access logs in a bucket of their own. Objects are reached only through presigned
 * URLs the layer issues after an access check.
 */
export class MediaBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogs: s3.Bucket;

  constructor(scope: Construct, id: string, props: MediaBucketProps) {
    super(scope, id);
    // A retained bucket survives stack deletion; a dev bucket must be emptied first (docs/deploy.md).
    const removalPolicy = props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const secure = { blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL, enforceSSL: true, encryption: s3.BucketEncryption.S3_MANAGED, removalPolicy };
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      ...secure,
      // S3 log delivery writes with the bucket-owner-preferred ACL model.
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(props.accessLogDays ?? 90) }],
    });
    NagSuppressions.addResourceSuppressions(this.accessLogs, [
      { id: 'AwsSolutions-S1', reason: 'This is the server access log bucket; logging it into itself would loop.' },
    ]);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...secure,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'media/',
      versioned: props.retain,
      lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      cors: [
        {
          allowedMethods: [s3.HttpMethods.PUT, s3.HttpMethods.GET, s3.HttpMethods.HEAD],
          allowedOrigins: [...props.corsOrigins],
          // Presigned PUTs sign content-type; SDK checksums travel as x-amz-* headers.
          allowedHeaders: ['content-type', 'x-amz-*'],
          exposedHeaders: ['etag'],
          maxAge: 3000,
        },
      ],
    });
  }

  /**
   * Object-level rights only, no bucket-level ones: `read` → s3:GetObject (presigned
   * GETs, HEAD checks), `write` → s3:PutObject (presigned PUTs).
   */
  grantObjects(grantee: iam.IGrantable, access: 'read' | 'write' | 'readwrite'): iam.Grant {
    const actions = [...(access !== 'write' ? ['s3:GetObject'] : []), ...(access !== 'read' ? ['s3:PutObject'] : [])];
    return iam.Grant.addToPrincipal({ grantee, actions, resourceArns: [this.bucket.arnForObjects('*')] });
  }
}
