import { RemovalPolicy } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';

export interface AuthProps {
  /** An external OIDC issuer; absent: a Cognito user pool is created. */
  readonly oidc?: { readonly issuer: string; readonly audience: readonly string[] };
  readonly retain: boolean;
}

/** Who signs the tokens both APIs accept: a Cognito user pool of the stack's own, or an external OIDC issuer. */
export class Auth extends Construct {
  readonly kind: 'cognito' | 'oidc';
  readonly issuer: string;
  readonly audience: string[];

  constructor(scope: Construct, id: string, props: AuthProps) {
    super(scope, id);
    if (props.oidc) {
      this.kind = 'oidc';
      this.issuer = props.oidc.issuer;
      this.audience = [...props.oidc.audience];
      return;
    }
    const pool = new cognito.UserPool(this, 'UserPool', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      passwordPolicy: { minLength: 12, requireDigits: true, requireLowercase: true, requireUppercase: true, requireSymbols: true },
      mfa: cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { sms: false, otp: true },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      deletionProtection: props.retain,
    });
    const client = pool.addClient('AppClient', { authFlows: { userSrp: true }, preventUserExistenceErrors: true });
    this.kind = 'cognito';
    this.issuer = `https://cognito-idp.${pool.env.region}.amazonaws.com/${pool.userPoolId}`;
    this.audience = [client.userPoolClientId];
  }
}
