/**
 * Key lookups by secret hash, remembered for a few seconds so that authentication costs no
 * PostgreSQL round trip per request. The price: a key revoked through another API process (or
 * the CLI) keeps working here until its entry expires, at most ttlMs later; open event streams,
 * which re-check their key through isActive() at each poll, end at most ttlMs plus a poll
 * later (a poll later when revoked through this process, which forgets the key). Unknown keys are
 * remembered too (a client retrying a bad key costs one query per TTL), and the map is bounded
 * so that a flood of random keys cannot grow it without end.
 */
import type { Database, Principal, Scope } from '@mwt/db';

export const KEY_CACHE_TTL_MS = 5_000;
const MAX_ENTRIES = 10_000;

export interface ActiveKey {
  id: string;
  scopes: readonly Scope[];
}

interface Entry {
  expiresAt: number;
  key: Promise<ActiveKey | null>;
}

export class KeyCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly db: Database,
    private readonly ttlMs = KEY_CACHE_TTL_MS,
  ) {}

  /** The active (known, unrevoked) key with this secret hash, or null. */
  lookup(secretHash: string): Promise<ActiveKey | null> {
    const now = Date.now();
    const cached = this.entries.get(secretHash);
    if (cached && cached.expiresAt > now) return cached.key;
    this.entries.delete(secretHash);
    // A Map iterates in insertion order: the first entry is the oldest.
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value ?? '');
    // The promise itself is cached, so concurrent requests with one key share one query.
    const key = this.load(secretHash);
    this.entries.set(secretHash, { expiresAt: now + this.ttlMs, key });
    // A failed query (PostgreSQL down) must not be remembered as an answer.
    key.catch(() => {
      if (this.entries.get(secretHash)?.key === key) this.entries.delete(secretHash);
    });
    return key;
  }

  /**
   * Whether the key a principal was authenticated with is still active, for responses that
   * outlive their request (event streams): the same cached lookup, so asking at every poll costs
   * no query beyond one per TTL. Without a key (MWT_AUTH=disabled) there is nothing to revoke.
   */
  async isActive({ keyId, secretHash }: Principal): Promise<boolean> {
    if (keyId === null || secretHash === null) return true;
    return (await this.lookup(secretHash))?.id === keyId;
  }

  /** Drops a key at once (revocation through this process). */
  forget(secretHash: string): void {
    this.entries.delete(secretHash);
  }

  private async load(secretHash: string): Promise<ActiveKey | null> {
    const row = await this.db.apiKeys.findBySecretHash(secretHash);
    if (!row || row.revokedAt) return null;
    // Once per TTL per key, not per request: lastUsedAt is as precise as the cache.
    await this.db.apiKeys.touch(row.id);
    return { id: row.id, scopes: row.scopes };
  }
}
