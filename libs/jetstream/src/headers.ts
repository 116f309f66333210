import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';

/** NATS headers from a plain record (values already strings). */
export function toHeaders(record: Readonly<Record<string, string>>): MsgHdrs {
  const out = natsHeaders();
  for (const [key, value] of Object.entries(record)) out.set(key, value);
  return out;
}

/** A plain record of the first value of each header. */
export function fromHeaders(headers: MsgHdrs | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const key of headers.keys()) out[key] = headers.get(key);
  return out;
}
