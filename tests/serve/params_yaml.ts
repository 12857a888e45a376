/** The params.yaml the service tests start from. */
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
