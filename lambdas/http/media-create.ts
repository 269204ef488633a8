/** POST /v1/media → 201 {media_id, upload_url, expires_at}: a presigned PUT with type and length signed. */
import { z } from 'zod';
import { ulidSchema } from '../../shared/validation';
import { httpRoute } from '../../shared/http/handler';
import { createUpload } from '../../shared/media/media';

const Body = z.strictObject({
  scope: z.union([z.strictObject({ channel_id: ulidSchema }), z.strictObject({ conversation_id: ulidSchema }), z.strictObject({ topic_id: ulidSchema })]),
  content_type: z.string().min(3).max(128),
  size: z.number().int().min(1),
});

export const handler = httpRoute({ body: Body }, async ({ principal, body }) => ({
  status: 201,
  body: await createUpload(principal, body.scope, body.content_type, body.size),
}));
