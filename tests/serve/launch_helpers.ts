/** For the tests that launch the service: its params.yaml, and a free port. */
import { join } from "node:path";

/**
 * Writes `root`/params.yaml: models, predictions and the tracking store under
 * `root`, then the `extra` lines (e.g. a serve: section). Returns its path.
 */
export async function writeServeParams(root: string, extra: string[] = []): Promise<string> {
  const path = join(root, "params.yaml");
  await Deno.writeTextFile(
    path,
    [
      "paths:",
      `  models: ${root}/models`,
      `  predictions: ${root}/predictions`,
      "tracking:",
      `  store: ${root}/models/orchard.db`,
      ...extra,
      "",
    ].join("\n"),
  );
  return path;
}

/** A port nothing listens on now (the OS picks it). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}
