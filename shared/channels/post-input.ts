/** What a client may send as a post's content; shared by publish and edit. */
import { z } from 'zod';
import { ulidSchema } from '../validation';

const MAX_BODY_CHARS = 10_000;
const MAX_ATTACHMENTS = 10;

/** 1..10,000 characters, counted as Unicode code points. */
export const postBodyTextSchema = z
  .string()
  .min(1, 'must not be empty')
  .refine((text) => [...text].length <= MAX_BODY_CHARS, `must be at most ${MAX_BODY_CHARS} characters`);

export const attachmentIdsSchema = z
  .array(ulidSchema)
  .max(MAX_ATTACHMENTS)
  .refine((ids) => new Set(ids).size === ids.length, 'must not repeat an id');
