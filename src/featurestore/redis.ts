/**
 * The online store on Redis (npm `redis`, node-redis 5), for a team: each
 * entity's row of a view version is a hash `<prefix><view>__v<n>:<key>` with
 * fields ts, c (created) and v (the values as JSON). Writes go through one Lua
 * script per batch that keeps the newer row, so concurrent or repeated
 * materializations never roll a value back. Reads of several keys are issued
 * together and pipelined by the client.
 */
import { createClient } from "redis";
import { UserError } from "../core/errors.ts";
import { redactUri } from "../core/uri.ts";
import {
  type EncodedRow,
  encodeRow,
  type MaterializationRecord,
  type OnlineStore,
  type StoredRow,
} from "./online.ts";

const UPSERT = `
local n = 0
for i, k in ipairs(KEYS) do
  local ts = tonumber(ARGV[i * 3 - 2])
  local c = tonumber(ARGV[i * 3 - 1])
  local cur = redis.call('HMGET', k, 'ts', 'c')
  local cts = tonumber(cur[1])
  if (not cts) or ts > cts or (ts == cts and c >= tonumber(cur[2])) then
    redis.call('HSET', k, 'ts', ARGV[i * 3 - 2], 'c', ARGV[i * 3 - 1], 'v', ARGV[i * 3])
    n = n + 1
  end
end
return n
`;

const BATCH = 1000;

type Client = ReturnType<typeof createClient>;

export class RedisOnlineStore implements OnlineStore {
  readonly kind = "redis" as const;

  private constructor(private readonly client: Client, readonly prefix: string) {}

  static async open(
    url: string,
    opts: { prefix?: string; connectTimeoutMs?: number } = {},
  ): Promise<RedisOnlineStore> {
    const client = createClient({
      url,
      socket: { connectTimeout: opts.connectTimeoutMs ?? 2000, reconnectStrategy: false },
    });
    let failure: unknown;
    client.on("error", (e) => failure ??= e);
    try {
      await client.connect();
    } catch (e) {
      throw new UserError(
        `online store ${redactUri(url)}: cannot connect (${String(failure ?? e).split("\n")[0]})`,
      );
    }
    return new RedisOnlineStore(client, opts.prefix ?? "orchard:fs:");
  }

  private key(table: string, key: string): string {
    return `${this.prefix}${table}:${key}`;
  }

  write(table: string, rows: StoredRow[]): Promise<number> {
    return this.writeEncoded(table, rows.map(encodeRow));
  }

  async writeEncoded(table: string, rows: EncodedRow[]): Promise<number> {
    let written = 0;
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < rows.length; i += BATCH) {
      const batch = rows.slice(i, i + BATCH);
      pending.push(
        this.client.eval(UPSERT, {
          keys: batch.map((r) => this.key(table, r.key)),
          arguments: batch.flatMap((r) => [String(r.ts), String(r.created), r.json]),
        }).then((n) => written += Number(n)),
      );
      if (pending.length >= 8) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
    return written;
  }

  async read(table: string, keys: string[]): Promise<(StoredRow | undefined)[]> {
    const got = await Promise.all(keys.map((k) => this.client.hmGet(this.key(table, k), ["ts", "c", "v"])));
    return got.map((r, i) => {
      const [ts, c, v] = r as (string | null)[];
      return ts === null || v === null
        ? undefined
        : { key: keys[i], ts: Number(ts), created: Number(c), values: JSON.parse(v) };
    });
  }

  async lastMaterialization(view: string, version: number): Promise<MaterializationRecord | undefined> {
    const v = await this.client.hGet(`${this.prefix}_materializations`, `${view}__v${version}`);
    return v ? JSON.parse(v) as MaterializationRecord : undefined;
  }

  async recordMaterialization(m: MaterializationRecord): Promise<void> {
    const prev = await this.lastMaterialization(m.view, m.version);
    if (prev && prev.end > m.end) return; // an earlier window re-run: the latest end stays
    await this.client.hSet(`${this.prefix}_materializations`, `${m.view}__v${m.version}`, JSON.stringify(m));
  }

  /** Deletes every key under this store's prefix (tests). */
  async clear(): Promise<void> {
    for await (const keys of this.client.scanIterator({ MATCH: `${this.prefix}*`, COUNT: 1000 })) {
      if (keys.length) await this.client.del(keys);
    }
  }

  async close(): Promise<void> {
    if (this.client.isOpen) await this.client.close();
  }
}
