/**
 * Fake but real artifacts for the registry tests: a finished run in the store
 * whose "model" artifact is a directory of small files (no training code).
 */
import { TrackingStore } from "../../src/tracking/store.ts";
import type { Backend } from "../_support/backends.ts";

export async function makeRun(
  store: TrackingStore,
  root: string,
  metrics: Record<string, number>,
  opts: {
    experiment?: string;
    params?: Record<string, unknown>;
    status?: "FINISHED" | "FAILED";
    files?: Record<string, string>;
  } = {},
): Promise<string> {
  const { runId } = await store.startRun({ experiment: opts.experiment ?? "churn" });
  await store.logParams(runId, opts.params ?? { max_depth: 10, n_estimators: 50 });
  await store.logMetrics(runId, metrics);
  const dir = `${root}/models/artifacts/${runId}`;
  Deno.mkdirSync(`${dir}/sub`, { recursive: true });
  const files = opts.files ?? {
    "artifact.json": JSON.stringify({ format: 1, engine: "fake" }),
    "model.bin": `weights of ${runId}`,
    "sub/preprocess.json": "{}",
  };
  for (const [rel, text] of Object.entries(files)) Deno.writeTextFileSync(`${dir}/${rel}`, text);
  await store.logArtifact(runId, "model", dir);
  await store.endRun(runId, opts.status ?? "FINISHED");
  return runId;
}

export interface TempProject extends AsyncDisposable {
  root: string;
  store: TrackingStore;
  modelsDir: string;
}

/**
 * The backend's store opened, with the project's models folder under its
 * temp root (the SQLite file, when SQLite, is <root>/models/orchard.db).
 * `await using` closes the store.
 */
export async function tempProject(b: Backend): Promise<TempProject> {
  const store = await TrackingStore.open(b.location);
  return {
    root: b.root,
    store,
    modelsDir: `${b.root}/models`,
    [Symbol.asyncDispose]: () => store.close(),
  };
}
