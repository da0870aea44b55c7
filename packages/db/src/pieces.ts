/**
 * Bytes kept as the pieces they arrived in (socket reads of about 64 KB), never joined into one
 * Buffer: a download passes a large value on without copying it, and allocates no large buffer
 * whose pages the kernel must zero and the garbage collector must track.
 */
export type Pieces = readonly Buffer[];

export function piecesLength(pieces: Pieces): number {
  let length = 0;
  for (const piece of pieces) length += piece.length;
  return length;
}

/** Bytes [start, end) of `pieces`, as subarrays of them (no copy). */
export function slicePieces(pieces: Pieces, start: number, end: number): Buffer[] {
  const out: Buffer[] = [];
  let offset = 0;
  for (const piece of pieces) {
    const from = Math.max(start - offset, 0);
    const to = Math.min(end - offset, piece.length);
    if (from < to) out.push(piece.subarray(from, to));
    offset += piece.length;
    if (offset >= end) break;
  }
  return out;
}

/** Bytes [start, end) of `pieces` as one Buffer: for the few bytes of a header, not for a payload. */
export function copyOfPieces(pieces: Pieces, start: number, end: number): Buffer {
  const slices = slicePieces(pieces, start, end);
  return slices.length === 1 ? slices[0] : Buffer.concat(slices);
}
