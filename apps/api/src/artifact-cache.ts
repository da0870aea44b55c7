/**
 * Whole artifacts in memory, least recently used out first, bounded in bytes (MWT_ARTIFACT_CACHE_MB),
 * so that a module many clients download is read from PostgreSQL once per API process. Keyed by
 * sha256: an artifact never changes under its sha256 (rewritten with other bytes, it has another
 * one), so an entry cannot go stale and needs no invalidation. Only the bytes come from here: every
 * request still looks the artifact up, with its owner, in PostgreSQL.
 */
export class ArtifactCache {
  /** Map order is recency order: the first entry is the least recently used. */
  private readonly entries = new Map<string, Buffer>();
  private usedBytes = 0;
  /** sha256es being filled by a download now: one fill per artifact, the others just stream. */
  private readonly filling = new Set<string>();

  constructor(readonly capacityBytes: number) {}

  /** Larger artifacts are streamed, never cached: one of them would evict most of the others. */
  admits(size: number): boolean {
    return this.capacityBytes > 0 && size <= this.capacityBytes / 4;
  }

  get(sha256: string): Buffer | undefined {
    const bytes = this.entries.get(sha256);
    if (bytes) {
      this.entries.delete(sha256);
      this.entries.set(sha256, bytes);
    }
    return bytes;
  }

  set(sha256: string, bytes: Buffer): void {
    if (!this.admits(bytes.length) || this.entries.has(sha256)) return;
    this.entries.set(sha256, bytes);
    this.usedBytes += bytes.length;
    for (const [oldest, evicted] of this.entries) {
      if (this.usedBytes <= this.capacityBytes) break;
      this.entries.delete(oldest);
      this.usedBytes -= evicted.length;
    }
  }

  /**
   * Passes the chunks of a whole artifact through, keeping a copy that enters the cache once the
   * last chunk has gone out (a download cut short caches nothing). The first download of an
   * artifact streams at once instead of waiting for a complete read.
   */
  async *fillFrom(sha256: string, size: number, chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    if (!this.admits(size) || this.filling.has(sha256)) {
      yield* chunks;
      return;
    }
    this.filling.add(sha256);
    try {
      const whole = Buffer.allocUnsafe(size);
      let offset = 0;
      for await (const chunk of chunks) {
        offset += chunk.copy(whole, offset);
        yield chunk;
      }
      if (offset === size) this.set(sha256, whole);
    } finally {
      this.filling.delete(sha256);
    }
  }
}
