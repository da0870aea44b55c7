/** API keys: stored by the sha256 of their secret, never the secret itself. */
import type { ApiKey, PrismaClient } from '../generated/client.js';
import type { Scope } from '../principal.js';

/** A key as listed and shown: without its secret's hash. */
export type ApiKeyRecord = Omit<ApiKey, 'secretHash'>;
const withoutHash = { secretHash: true } as const;

export interface NewApiKey {
  name: string;
  /** The secret's first characters, to tell keys apart in lists. */
  prefix: string;
  secretHash: string;
  scopes: readonly Scope[];
}

export class ApiKeyRepository {
  constructor(private readonly prisma: PrismaClient) {}

  create({ scopes, ...key }: NewApiKey): Promise<ApiKeyRecord> {
    return this.prisma.apiKey.create({ data: { ...key, scopes: [...new Set(scopes)] }, omit: withoutHash });
  }

  list(): Promise<ApiKeyRecord[]> {
    return this.prisma.apiKey.findMany({ omit: withoutHash, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  }

  /** Marks the key revoked (once: revoking again keeps the first date); null when there is no such key. */
  async revoke(id: string): Promise<ApiKey | null> {
    await this.prisma.apiKey.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date() } });
    return this.prisma.apiKey.findUnique({ where: { id } });
  }

  findBySecretHash(secretHash: string): Promise<Pick<ApiKey, 'id' | 'scopes' | 'revokedAt'> | null> {
    return this.prisma.apiKey.findUnique({ where: { secretHash }, select: { id: true, scopes: true, revokedAt: true } });
  }

  /** Records that the key was just used. */
  async touch(id: string): Promise<void> {
    await this.prisma.apiKey.updateMany({ where: { id }, data: { lastUsedAt: new Date() } });
  }
}
