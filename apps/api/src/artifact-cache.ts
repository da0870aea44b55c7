/**
 * Whole artifacts in memory, least recently used out first, bounded in bytes (MWT_ARTIFACT_CACHE_MB),
 * so that a module many clients download is read from PostgreSQL once per API process. Keyed by
 * sha256: an artifact never changes under its sha256 (rewritten with other bytes, it has another
 * one), so an entry cannot go stale and needs no invalidation. Only the bytes come from here: every
 * request still looks the artifact up, with its owner, in PostgreSQL. An entry is kept as the pieces
 * the first download passed on (@mwt/db's Pieces): filling it copies nothing.
 */
import { piecesLength, type Pieces } from '@mwt/db';

export class ArtifactCache {
  /** Map order is recency order: the first entry is the least recently used. */
  private readonly entries = new Map<string, Pieces>();
  private usedBytes = 0;
  /** sha256es being filled by a download now: one fill per artifact, the others just stream. */
  private readonly filling = new Set<string>();

  constructor(readonly capacityBytes: number) {}

  /** Larger artifacts are streamed, never cached: one of them would evict most of the others. */
  admits(size: number): boolean {
    return this.capacityBytes > 0 && size <= this.capacityBytes / 4;
  }

  get(sha256: string): Pieces | undefined {
    const pieces = this.entries.get(sha256);
    if (pieces) {
      this.entries.delete(sha256);
      this.entries.set(sha256, pieces);
    }
    return pieces;
  }

  set(sha256: string, pieces: Pieces): void {
    const size = piecesLength(pieces);
    if (!this.admits(size) || this.entries.has(sha256)) return;
    this.entries.set(sha256, pieces);
    this.usedBytes += size;
    for (const [oldest, evicted] of this.entries) {
      if (this.usedBytes <= this.capacityBytes) break;
      this.entries.delete(oldest);
      this.usedBytes -= piecesLength(evicted);
    }
  }

  /**
   * Passes the pieces of a whole artifact through, keeping them for the cache, which they enter
   * once the last one has gone out (a download cut short caches nothing). The first download of an
   * artifact streams at once instead of waiting for a complete read.
   */
  async *fillFrom(sha256: string, size: number, pieces: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    if (!this.admits(size) || this.filling.has(sha256)) {
      yield* pieces;
      return;
    }
    this.filling.add(sha256);
    try {
      const kept: Buffer[] = [];
      for await (const piece of pieces) {
        kept.push(piece);
        yield piece;
      }
      if (piecesLength(kept) === size) this.set(sha256, kept);
    } finally {
      this.filling.delete(sha256);
    }
  }
}
