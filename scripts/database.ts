/**
 * Creates the database named in a PostgreSQL URL (connecting to the server's `postgres` database),
 * or drops and recreates it with `--fresh` (for the test suite's throwaway database).
 *   tsx scripts/database.ts postgresql://postgres@127.0.0.1:5432/mwt [--fresh]
 */
import pg from 'pg';

const [url, flag] = process.argv.slice(2);
if (!url) throw new Error('usage: tsx scripts/database.ts <postgresql url> [--fresh]');
const target = new URL(url);
const name = decodeURIComponent(target.pathname.slice(1));
if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`refusing database name "${name}": letters, digits and _ only`);
const admin = new URL(url);
admin.pathname = '/postgres';
const client = new pg.Client({ connectionString: admin.toString() });
await client.connect();
try {
  if (flag === '--fresh') await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  if (exists.rowCount === 0) {
    await client.query(`CREATE DATABASE "${name}"`);
    console.log(`[database] created ${name}`);
  }
} finally {
  await client.end();
}
