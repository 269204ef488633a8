import { z } from 'zod';
import { InvalidRequestError } from './errors';

/** Ids the layer creates: ULIDs (Crockford base32, 26 characters). */
export const ulidSchema = z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a ULID');

/** Validate with a zod schema; failures become 400 invalid_request naming the field and why. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, where: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    field: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  const first = issues[0];
  throw new InvalidRequestError(first ? `${first.field}: ${first.message}` : `${where} is invalid`, { details: { issues } });
}
