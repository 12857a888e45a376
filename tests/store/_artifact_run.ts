/** A finished run whose "model" artifact is a folder of small plain files (no training). */
import type { TrackingStore } from "../../src/tracking/store.ts";

export async function artifactRun(
  store: TrackingStore,
  root: string,
  metrics: Record<string, number> = { roc_auc: 0.8 },
  experiment = "churn",
): Promise<string> {
  const { runId } = await store.startRun({ experiment });
  await store.logParams(runId, { max_depth: 10 });
  await store.logMetrics(runId, metrics);
  const dir = `${root}/models/artifacts/${runId}`;
  Deno.mkdirSync(`${dir}/sub`, { recursive: true });
  Deno.writeTextFileSync(`${dir}/artifact.json`, JSON.stringify({ format: 1, engine: "fake" }));
  Deno.writeTextFileSync(`${dir}/model.bin`, `weights of ${runId}`);
  Deno.writeTextFileSync(`${dir}/sub/preprocess.json`, "{}");
  await store.logArtifact(runId, "model", dir);
  await store.endRun(runId, "FINISHED");
  return runId;
}
