/** Whether a PostgreSQL server answers at `uri` within 2 s: a bench runs its PostgreSQL half only then. */
import pg from "pg";

export async function postgresAnswers(uri: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: uri, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}
