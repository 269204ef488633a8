import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export interface AccessProviderProps {
  /** The shipped default provider, when no external one is configured. */
  readonly defaultFunction?: lambda.IFunction;
  /** An external provider's ARN (stage config); wins over the default. */
  readonly externalArn?: string;
}

/** The function the layer asks CanReadChannel: the default one, or an external service's. */
export class AccessProvider extends Construct {
  readonly function: lambda.IFunction;

  constructor(scope: Construct, id: string, props: AccessProviderProps) {
    super(scope, id);
    if (props.externalArn) {
      // Our roles get an identity policy to invoke it; its resource policy is its owner's to set.
      this.function = lambda.Function.fromFunctionAttributes(this, 'External', { functionArn: props.externalArn, skipPermissions: true });
    }
    else if (props.defaultFunction) this.function = props.defaultFunction;
    else throw new Error('AccessProvider needs a default function or an external ARN');
  }

  grantInvoke(grantee: iam.IGrantable): void {
    this.function.grantInvoke(grantee);
  }
}
