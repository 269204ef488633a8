/** The channel-admin gate every write to a channel passes. */
import type { Principal } from '../auth/principal';
import { AccessDeniedError } from '../errors';
import { getChannelHead, isChannelAdmin, type ChannelHead } from './channels';

/** The channel, or 404; 403 unless the principal is one of its admins. */
export async function adminChannel(principal: Principal, channelId: string): Promise<ChannelHead> {
  const channel = await getChannelHead(channelId);
  if (!isChannelAdmin(principal, channel)) throw new AccessDeniedError('Only channel admins may do that.');
  return channel;
}
