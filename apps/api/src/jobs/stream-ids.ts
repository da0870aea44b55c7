/**
 * Event ids of the job event streams are entry ids of the queue's Redis event stream (`<ms>-<seq>`,
 * increasing): a client that reconnects with Last-Event-ID gets what came after that entry.
 */
const STREAM_ID = /^(\d{1,20})-(\d{1,20})$/;

export const isStreamId = (id: string): boolean => STREAM_ID.test(id);

/** Negative, zero or positive as a is before, equal to or after b. */
export function compareStreamIds(a: string, b: string): number {
  const [, ams = '0', aseq = '0'] = STREAM_ID.exec(a) ?? [];
  const [, bms = '0', bseq = '0'] = STREAM_ID.exec(b) ?? [];
  const ms = BigInt(ams) - BigInt(bms);
  const diff = ms !== 0n ? ms : BigInt(aseq) - BigInt(bseq);
  return diff < 0n ? -1 : diff > 0n ? 1 : 0;
}

/** Before every entry Redis can hold. */
export const STREAM_START = '0-0';
