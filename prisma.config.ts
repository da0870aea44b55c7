/**
 * Prisma CLI configuration. The CLI's native engines cannot be downloaded here (see
 * ../shared/ENV-NOTES.md, "Prisma offline"), so `engine: "js"` makes it drive the WASM schema
 * engine bundled in the `prisma` package through @prisma/adapter-pg, patched for three defects
 * of adapter-pg 6.19.3 under the CLI (marked 1-3 below).
 */
import { randomUUID } from 'node:crypto';
import { defineConfig } from 'prisma/config';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';

const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/mwt';
// Without a resolvable URL the CLI falls back to the native engine and tries to download it.
process.env.DATABASE_URL ||= DEFAULT_DATABASE_URL;

type Adapter = Awaited<ReturnType<PrismaPg['connect']>>;
type QueryResult = { fields?: { dataTypeID: number }[] };

const PG_NAME = 19;
const PG_CHAR = 18;
const PG_TEXT = 25;

function namesAsText(result: unknown): void {
  for (const r of Array.isArray(result) ? result : [result]) {
    for (const field of (r as QueryResult | undefined)?.fields ?? []) {
      if (field.dataTypeID === PG_NAME || field.dataTypeID === PG_CHAR) field.dataTypeID = PG_TEXT;
    }
  }
}

/**
 * 1. adapter-pg rejects result columns of type `name` and `"char"` ("Column type 'name' could
 * not be deserialized", prisma/orm#27403), which the schema engine's introspection returns.
 * Their text form is a plain string, so relabel them `text` on every result, including the
 * callback form pg.Pool uses internally.
 */
class NamesAsTextClient extends pg.Client {
  override query(...args: unknown[]): never {
    const last = args.length - 1;
    const callback = args[last];
    if (typeof callback === 'function') {
      args[last] = (err: unknown, res: unknown) => {
        if (!err) namesAsText(res);
        return (callback as (e: unknown, r: unknown) => unknown)(err, res);
      };
    }
    const out: unknown = Reflect.apply(pg.Client.prototype.query, this, args);
    if (out instanceof Promise) return out.then((res) => (namesAsText(res), res)) as never;
    return out as never;
  }
}

/**
 * 2. Given a connection string, adapter-pg's shadow pool keeps connecting to the main
 * database (the string's database wins over `database`), so pass the parts separately.
 */
function poolConfig(url: string, database?: string): pg.PoolConfig {
  const u = new URL(url);
  return {
    host: decodeURIComponent(u.hostname),
    port: u.port ? Number(u.port) : 5432,
    user: decodeURIComponent(u.username) || undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    database: database ?? decodeURIComponent(u.pathname.slice(1)),
    Client: NamesAsTextClient,
  };
}

/** Delegates to `inner`, with its own executeScript and dispose. */
function patched(inner: Adapter, dispose: () => Promise<void>): Adapter {
  const adapter = Object.create(inner) as Adapter;
  /**
   * 3. adapter-pg splits scripts on ';', which breaks `$$` bodies and string literals. A
   * parameterless query goes over pg's simple protocol, which runs many statements at once,
   * and executeRaw keeps adapter-pg's error mapping.
   */
  adapter.executeScript = async (script: string) => {
    await inner.executeRaw({ sql: script, args: [], argTypes: [] });
  };
  adapter.dispose = dispose;
  return adapter;
}

/**
 * The native schema engine creates a missing database on `migrate dev`/`deploy`; the JS one
 * reports "Database does not exist". Do what the native one did, so a fresh server works.
 */
async function ensureDatabase(url: string): Promise<void> {
  const config = poolConfig(url);
  const probe = new pg.Client(config);
  try {
    await probe.connect();
    return;
  } catch (err) {
    if ((err as { code?: string }).code !== '3D000') throw err;
  } finally {
    await probe.end().catch(() => undefined);
  }
  const admin = new pg.Client({ ...config, database: 'postgres' });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${String(config.database).replaceAll('"', '""')}"`);
  } finally {
    await admin.end();
  }
}

function adapterFactory(url: string) {
  const base = new PrismaPg(poolConfig(url));
  return {
    provider: 'postgres' as const,
    adapterName: base.adapterName,
    async connect(): Promise<Adapter> {
      await ensureDatabase(url);
      const inner = await base.connect();
      return patched(inner, () => inner.dispose());
    },
    async connectToShadowDb(): Promise<Adapter> {
      const admin = await base.connect();
      const name = `prisma_migrate_shadow_db_${randomUUID()}`;
      await admin.executeRaw({ sql: `CREATE DATABASE "${name}"`, args: [], argTypes: [] });
      const shadow = await new PrismaPg(poolConfig(url, name)).connect();
      // 2 (cont.): end the shadow pool before DROP DATABASE, which fails while it has sessions.
      return patched(shadow, async () => {
        await shadow.dispose();
        await admin.executeRaw({ sql: `DROP DATABASE IF EXISTS "${name}"`, args: [], argTypes: [] });
        await admin.dispose();
      });
    },
  };
}

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  experimental: { adapter: true },
  engine: 'js',
  adapter: async () => adapterFactory(process.env.DATABASE_URL || DEFAULT_DATABASE_URL),
});
