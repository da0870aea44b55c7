/**
 * Whole artifacts in memory, least recently used out first, bounded in bytes (MWT_ARTIFACT_CACHE_MB),
 * so that a module many clients download is read from PostgreSQL twice per API process. An artifact
 * enters on its second whole download (as nginx's proxy_cache_min_uses 2): a script fetching its
 * modules downloads each once, and keeping those would push out the ones clients come back for. It
 * also spares a one-off download the fresh memory it would keep: on a VM where a page fault costs
 * 12 us, keeping the pieces of a 32 MB first download cost the API 230-420 ms of CPU, streaming
 * them through 80-140 ms (the socket buffers reused). Keyed by
 * sha256: an artifact never changes under its sha256 (rewritten with other bytes, it has another
 * one), so an entry cannot go stale and needs no invalidation. Only the bytes come from here: every
 * request still looks the artifact up, with its owner, in PostgreSQL. An entry is kept as the pieces
 * the first download passed on (@mwt/db's Pieces): filling it copies nothing.
 */
import { piecesLength, type Pieces } from '@mwt/db';

/** How many sha256es downloaded once are remembered: 64 bytes each. */
const SEEN_KEYS = 4096;

export class ArtifactCache {
  /** Map order is recency order: the first entry is the least recently used. */
  private readonly entries = new Map<string, Pieces>();
  private usedBytes = 0;
  /** sha256es being filled by a download now: one fill per artifact, the others just stream. */
  private readonly filling = new Set<string>();
  /** sha256es downloaded whole once, the oldest first: the next whole download fills the cache. */
  private readonly seen = new Set<string>();

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
   * Passes the pieces of a whole artifact through, keeping them for the cache if it was downloaded
   * whole before; they enter once the last one has gone out (a download cut short caches nothing).
   * A download streams at once instead of waiting for a complete read.
   */
  async *fillFrom(sha256: string, size: number, pieces: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    if (!this.admits(size) || this.filling.has(sha256) || !this.seenBefore(sha256)) {
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

  /** Whether `sha256` was downloaded whole before; remembers it if not (the latest SEEN_KEYS of them). */
  private seenBefore(sha256: string): boolean {
    if (this.seen.has(sha256)) return true;
    this.seen.add(sha256);
    for (const oldest of this.seen) {
      if (this.seen.size <= SEEN_KEYS) break;
      this.seen.delete(oldest);
    }
    return false;
  }
}
