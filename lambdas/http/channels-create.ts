/** POST /v1/channels → 201 {channel}; platform admins only. */
import { z } from 'zod';
import { createChannel, toChannel } from '../../shared/channels/channels';
import { httpRoute } from '../../shared/http/handler';

const Body = z.strictObject({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).optional(),
  admin_ids: z
    .array(z.string().min(1).max(128))
    .min(1)
    .max(50)
    .refine((ids) => new Set(ids).size === ids.length, 'must not repeat an id')
    .optional(),
});

export const handler = httpRoute({ body: Body }, async ({ principal, body }) => ({
  status: 201,
  body: { channel: toChannel(await createChannel(principal, body)) },
}));
