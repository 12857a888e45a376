/**
 * Fake but real artifacts for the registry tests: a finished run in the store
 * whose "model" artifact is a directory of small files (no training code).
 */
import { TrackingStore } from "../../src/tracking/store.ts";

export function makeRun(
  store: TrackingStore,
  root: string,
  metrics: Record<string, number>,
  opts: {
    experiment?: string;
    params?: Record<string, unknown>;
    status?: "FINISHED" | "FAILED";
    files?: Record<string, string>;
  } = {},
): string {
  const { runId } = store.startRun({ experiment: opts.experiment ?? "churn" });
  store.logParams(runId, opts.params ?? { max_depth: 10, n_estimators: 50 });
  store.logMetrics(runId, metrics);
  const dir = `${root}/models/artifacts/${runId}`;
  Deno.mkdirSync(`${dir}/sub`, { recursive: true });
  const files = opts.files ?? {
    "artifact.json": JSON.stringify({ format: 1, engine: "fake" }),
    "model.bin": `weights of ${runId}`,
    "sub/preprocess.json": "{}",
  };
  for (const [rel, text] of Object.entries(files)) Deno.writeTextFileSync(`${dir}/${rel}`, text);
  store.logArtifact(runId, "model", dir);
  store.endRun(runId, opts.status ?? "FINISHED");
  return runId;
}

export function tempProject(): { root: string; store: TrackingStore; modelsDir: string } {
  const root = Deno.makeTempDirSync({ prefix: "orchard-registry-" });
  return { root, store: TrackingStore.open(`${root}/models/orchard.db`), modelsDir: `${root}/models` };
}
