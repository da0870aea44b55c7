/**
 * The request headers a download honours, read as RFC 9110 says: If-None-Match (a list, or `*`,
 * compared weakly: W/"x" matches "x"), If-Range (an entity tag, compared strongly; a date never
 * matches, as we send no Last-Modified) and Range (one `bytes=` range; several are answered with
 * the whole body, which the RFC allows).
 */

/** Entity tags in a header value: `"x"` or `W/"x"`. */
const ENTITY_TAG = /(?:W\/)?"[^"]*"/g;

export function noneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  return (header.match(ENTITY_TAG) ?? []).some((tag) => tag.replace(/^W\//, '') === etag);
}

/** If-Range: whether a Range may be honoured (no If-Range, or one naming the current, strong ETag). */
export function rangeStillValid(header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined) return true;
  return typeof header === 'string' && header.trim() === etag; // repeated If-Range headers: not a validator we sent
}

export type RangeRequest =
  | { kind: 'whole' } // no Range, one we do not serve (several ranges, another unit) or an invalid one
  | { kind: 'unsatisfiable' }
  | { kind: 'part'; start: number; end: number }; // inclusive, as in Content-Range

const WHOLE = { kind: 'whole' } as const;
const UNSATISFIABLE = { kind: 'unsatisfiable' } as const;

export function parseRange(header: string | undefined, size: number): RangeRequest {
  const specs = /^bytes=(.*)$/i.exec(header?.trim() ?? '')?.[1]?.split(',');
  if (specs?.length !== 1) return WHOLE;
  const match = /^(\d*)-(\d*)$/.exec(specs[0].trim());
  if (!match) return WHOLE;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return WHOLE;
  if (first === '') {
    // bytes=-n: the last n bytes
    const suffix = Number(last);
    return suffix === 0 || size === 0 ? UNSATISFIABLE : { kind: 'part', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? Infinity : Number(last);
  if (end < start) return WHOLE; // an invalid range-spec: ignore the header
  return start >= size ? UNSATISFIABLE : { kind: 'part', start, end: Math.min(end, size - 1) };
}
