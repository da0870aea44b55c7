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

/** Reads `pieces` front to back, handing out subarrays of them. */
export class PiecesCursor {
  private index = 0;
  private within = 0;
  private consumed = 0;
  private readonly length: number;

  constructor(private readonly pieces: Pieces) {
    this.length = piecesLength(pieces);
  }

  /** Bytes not taken yet. */
  left(): number {
    return this.length - this.consumed;
  }

  /** The next `length` bytes, as subarrays of the pieces (no copy). */
  take(length: number): Buffer[] {
    if (length > this.left()) throw new RangeError(`${length} bytes asked for, ${this.left()} left`);
    const out: Buffer[] = [];
    for (let wanted = length; wanted > 0;) {
      const piece = this.pieces[this.index];
      const part = piece.subarray(this.within, this.within + wanted);
      if (part.length > 0) out.push(part);
      wanted -= part.length;
      this.within += part.length;
      if (this.within === piece.length) {
        this.index += 1;
        this.within = 0;
      }
    }
    this.consumed += length;
    return out;
  }
}
