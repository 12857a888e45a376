/**
 * The tracking and registry suites run against both backends: a SQLite file
 * in a temp folder, and a fresh schema in a real PostgreSQL server.
 *
 * The server is ORCHARD_TEST_POSTGRES_URI, else the one .ci/run creates
 * (postgresql://orchard:orchard@127.0.0.1:5432/orchard_test). Without a
 * reachable server the PostgreSQL half is registered as ignored, with
 * "[postgres: skipped, no server]" in its name, so a run says it skipped.
 */
import pg from "pg";

export const DEFAULT_TEST_POSTGRES = "postgresql://orchard:orchard@127.0.0.1:5432/orchard_test";

function configuredUri(): string {
  try {
    return Deno.env.get("ORCHARD_TEST_POSTGRES_URI") || DEFAULT_TEST_POSTGRES;
  } catch {
    return DEFAULT_TEST_POSTGRES;
  }
}

async function probe(uri: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: uri, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** The server's URI when one answers, else undefined. */
export const POSTGRES_URI: string | undefined = (await probe(configuredUri())) ? configuredUri() : undefined;

export type BackendKind = "sqlite" | "postgres";

export interface Backend {
  kind: BackendKind;
  /** a temp folder for the test's files (models, artifacts) */
  root: string;
  /** a fresh, empty store location: a SQLite path under root, or a PostgreSQL URI with its own schema */
  location: string;
  /** another fresh location of the same kind (for two-store tests) */
  another(): string;
}

let schemas = 0;
function freshSchema(): string {
  return `t_${Deno.pid}_${Date.now().toString(36)}_${schemas++}`;
}

function postgresLocation(schema: string): string {
  const url = new URL(POSTGRES_URI!);
  url.searchParams.set("schema", schema);
  return url.toString();
}

function makeBackend(kind: BackendKind, made: string[]): Backend {
  const root = Deno.makeTempDirSync({ prefix: `orchard-${kind}-` });
  let n = 0;
  const next = () => {
    if (kind === "sqlite") return `${root}/models/${n++ === 0 ? "orchard" : `other-${n}`}.db`;
    const schema = freshSchema();
    made.push(schema);
    return postgresLocation(schema);
  };
  return { kind, root, location: next(), another: next };
}

async function dropSchemas(schemas: string[]): Promise<void> {
  if (schemas.length === 0) return;
  const client = new pg.Client({ connectionString: POSTGRES_URI });
  try {
    await client.connect();
    for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Registers `fn` twice: "<name> [sqlite]" and "<name> [postgres]". The
 * temp folder is removed afterwards.
 */
export function backendTest(
  name: string,
  fn: (backend: Backend) => Promise<void> | void,
  opts: { only?: BackendKind } = {},
): void {
  for (const kind of ["sqlite", "postgres"] as const) {
    if (opts.only && opts.only !== kind) continue;
    const skip = kind === "postgres" && POSTGRES_URI === undefined;
    Deno.test({
      name: `${name} [${kind}${skip ? ": skipped, no server" : ""}]`,
      ignore: skip,
      // pg keeps a socket per pool until the pool ends; each test ends its own
      sanitizeResources: kind === "sqlite",
      sanitizeOps: kind === "sqlite",
      fn: async () => {
        const schemas: string[] = [];
        const backend = makeBackend(kind, schemas);
        try {
          await fn(backend);
        } finally {
          Deno.removeSync(backend.root, { recursive: true });
          await dropSchemas(schemas);
        }
      },
    });
  }
}
