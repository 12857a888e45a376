/** Opens the online store a location names: a SQLite file path, or a redis:// URI (client loaded only then). */
import { type OnlineStore, SqliteOnlineStore } from "./online.ts";

export function isRedisUri(location: string): boolean {
  return /^rediss?:\/\//.test(location);
}

/** Opens the online store at `location`: a SQLite file path, or a redis:// URI. */
export async function openOnlineStore(
  location: string,
  opts: { prefix?: string } = {},
): Promise<OnlineStore> {
  if (isRedisUri(location)) {
    // loaded only for Redis
    const { RedisOnlineStore } = await import("./redis.ts");
    return await RedisOnlineStore.open(location, opts);
  }
  return SqliteOnlineStore.open(location);
}
