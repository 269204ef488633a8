import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';

export interface AuthProps {
  /** An external OIDC issuer and its accepted audiences; absent: a Cognito user pool is created. */
  readonly oidc?: { readonly issuer: string; readonly audience: readonly string[] };
  /** Retain the user pool and turn on its deletion protection (production). */
  readonly retain: boolean;
  /** User pool name (Cognito only). */
  readonly userPoolName: string;
}

/**
 * Who signs the tokens both APIs accept: a Cognito user pool of the stack's own with
 * one app client (access tokens checked by `client_id`), or an external OIDC issuer
 * (tokens checked by `aud`). Exposes what JWT_KIND, JWT_ISSUER and JWT_AUDIENCE say.
 */
export class Auth extends Construct {
  readonly kind: 'cognito' | 'oidc';
  readonly issuer: string;
  readonly audience: readonly string[];
  /** Present only for the Cognito kind. */
  readonly userPool?: cognito.UserPool;
  readonly userPoolClient?: cognito.UserPoolClient;

  constructor(scope: Construct, id: string, props: AuthProps) {
    super(scope, id);
    if (props.oidc) {
      this.kind = 'oidc';
      this.issuer = props.oidc.issuer;
      this.audience = [...props.oidc.audience];
      return;
    }
    const pool = new cognito.UserPool(this, 'UserPool', {
      userPoolName: props.userPoolName,
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      passwordPolicy: { minLength: 12, requireDigits: true, requireLowercase: true, requireUppercase: true, requireSymbols: true },
      mfa: cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { sms: false, otp: true },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      deletionProtection: props.retain,
    });
    NagSuppressions.addResourceSuppressions(pool, [
      { id: 'AwsSolutions-COG2', reason: 'MFA is optional (TOTP) so each product decides; sign-in itself happens in the apps, not in this layer.' },
      { id: 'AwsSolutions-COG3', reason: 'Advanced security (threat protection) needs the paid Plus feature plan; a product that wants it enables it on the pool.' },
      { id: 'AwsSolutions-COG8', reason: 'The Plus feature plan is a paid upgrade a product opts into; the layer needs only token issuance.' },
    ]);
    const client = pool.addClient('AppClient', {
      authFlows: { userSrp: true },
      preventUserExistenceErrors: true,
      generateSecret: false,
    });
    this.userPool = pool;
    this.userPoolClient = client;
    this.kind = 'cognito';
    this.issuer = `https://cognito-idp.${Stack.of(this).region}.amazonaws.com/${pool.userPoolId}`;
    this.audience = [client.userPoolClientId];
  }
}
