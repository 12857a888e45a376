/** Opens the online store a location names: a SQLite file path, or a redis:// URI (client loaded only then). */
import { type OnlineStore, SqliteOnlineStore } from "./online.ts";

/**
 * The Redis keys' prefix of a feature store block (feature_store.project): each project's namespace, so two
 * projects sharing one Redis server never read each other's views. Materialize and serving both use it.
 */
export function redisPrefixOf(fs: { project?: string }): string {
  return fs.project ? `orchard:fs:${fs.project}:` : "orchard:fs:";
}

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
