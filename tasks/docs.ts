/**
 * `deno task docs`: regenerate the reference pages from their sources, the task
 * specs with deno.json (docs/reference/cli.md) and the zod config schema
 * (docs/reference/config.md). tests/docs/reference_test.ts fails when the
 * committed pages are stale.
 */
import { defineTask, main, type TaskShape } from "../src/cli/task.ts";
import { type DenoTask, renderCliReference } from "../src/cli/reference.ts";
import { renderConfigReference } from "../src/config/reference.ts";
import { writeTextAtomic } from "../src/core/atomic.ts";
import { spec as ct } from "./ct.ts";
import { spec as drift } from "./drift.ts";
import { spec as driftSchedule } from "./drift_schedule.ts";
import { spec as features } from "./features.ts";
import { spec as featuresApply } from "./features_apply.ts";
import { spec as featuresMaterialize } from "./features_materialize.ts";
import { spec as featuresPlan } from "./features_plan.ts";
import { spec as generate } from "./generate.ts";
import { spec as models } from "./models.ts";
import { spec as notebooks } from "./notebooks.ts";
import { spec as notebooksStrip } from "./notebooks_strip.ts";
import { spec as predict } from "./predict.ts";
import { spec as prep } from "./prep.ts";
import { spec as register } from "./register.ts";
import { spec as runs } from "./runs.ts";
import { spec as storeCopy } from "./store_copy.ts";
import { spec as serve } from "./serve.ts";
import { spec as train } from "./train.ts";
import { spec as tune } from "./tune.ts";
import { spec as ui } from "./ui.ts";

export const SPECS: Record<string, TaskShape> = {
  "tasks/ct.ts": ct,
  "tasks/drift.ts": drift,
  "tasks/drift_schedule.ts": driftSchedule,
  "tasks/features.ts": features,
  "tasks/features_apply.ts": featuresApply,
  "tasks/features_materialize.ts": featuresMaterialize,
  "tasks/features_plan.ts": featuresPlan,
  "tasks/generate.ts": generate,
  "tasks/models.ts": models,
  "tasks/notebooks.ts": notebooks,
  "tasks/notebooks_strip.ts": notebooksStrip,
  "tasks/predict.ts": predict,
  "tasks/prep.ts": prep,
  "tasks/register.ts": register,
  "tasks/runs.ts": runs,
  "tasks/serve.ts": serve,
  "tasks/store_copy.ts": storeCopy,
  "tasks/train.ts": train,
  "tasks/tune.ts": tune,
  "tasks/ui.ts": ui,
};

/** Each reference page's path and text, rendered from the current sources. */
export function referencePages(root = "."): Record<string, string> {
  const denoJson = JSON.parse(Deno.readTextFileSync(`${root}/deno.json`)) as {
    tasks: Record<string, DenoTask>;
  };
  return {
    "docs/reference/cli.md": renderCliReference(denoJson.tasks, { ...SPECS, "tasks/docs.ts": spec }),
    "docs/reference/config.md": renderConfigReference(),
  };
}

export const spec = defineTask({
  name: "docs",
  description: "Regenerate docs/reference/cli.md (from deno.json and the task specs) and " +
    "docs/reference/config.md (from the config schema)",
  run() {
    const pages = referencePages();
    for (const [path, text] of Object.entries(pages)) writeTextAtomic(path, text);
    return { written: Object.keys(pages) };
  },
  summary: (r) => r.written.map((p) => `wrote ${p}`).join("\n"),
});

if (import.meta.main) await main(spec);
