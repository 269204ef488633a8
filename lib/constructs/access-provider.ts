import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export interface AccessProviderProps {
  /** The shipped default provider (a TeamFunction over the entitlements table). */
  readonly defaultFunction?: lambda.IFunction;
  /** An external provider's function ARN (stage config); then no default function exists. */
  readonly externalArn?: string;
}

/**
 * The function the layer asks `CanReadChannel`: the shipped default one, or an
 * external service's. Handlers name it by ACCESS_PROVIDER_FUNCTION and get invoke
 * rights through `grantInvoke`.
 */
export class AccessProvider extends Construct {
  readonly function: lambda.IFunction;
  readonly external: boolean;

  constructor(scope: Construct, id: string, props: AccessProviderProps) {
    super(scope, id);
    if (Boolean(props.externalArn) === Boolean(props.defaultFunction)) {
      throw new Error('AccessProvider takes either a default function or an external ARN');
    }
    this.external = Boolean(props.externalArn);
    this.function = props.externalArn
      ? // Our roles get an identity policy to invoke it; its resource policy is its owner's to set.
        lambda.Function.fromFunctionAttributes(this, 'External', { functionArn: props.externalArn, skipPermissions: true })
      : (props.defaultFunction as lambda.IFunction);
  }

  /** lambda:InvokeFunction on the provider (and its versions and aliases). */
  grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return this.function.grantInvoke(grantee);
  }
}
