/** Who is calling, as the verified token says. */
export interface Principal {
  readonly userId: string;
  readonly groups: readonly string[];
}

export const PLATFORM_ADMIN = 'platform_admin';

export function isPlatformAdmin(principal: Principal): boolean {
  return principal.groups.includes(PLATFORM_ADMIN);
}

/**
 * Groups from `cognito:groups` or `groups`. API Gateway's JWT authorizer hands array
 * claims to Lambda as a string such as "[a b]"; tokens verified in-process give arrays.
 */
export function groupsFromClaims(claims: Record<string, unknown>): string[] {
  const raw = claims['cognito:groups'] ?? claims.groups;
  if (Array.isArray(raw)) return raw.filter((g): g is string => typeof g === 'string');
  if (typeof raw === 'string') {
    const trimmed = raw.trim().replace(/^\[/, '').replace(/\]$/, '');
    return trimmed.split(/[\s,]+/).filter(Boolean);
  }
  return [];
}

export function principalFromClaims(claims: Record<string, unknown> | undefined): Principal | undefined {
  const sub = claims?.sub;
  if (typeof sub !== 'string' || sub.length === 0) return undefined;
  return { userId: sub, groups: groupsFromClaims(claims ?? {}) };
}
