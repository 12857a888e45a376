/**
 * `deno task tune`: grid or random search over tune.space (params.yaml) with
 * k-fold cross-validation; one parent run, one child run per trial.
 *
 *   deno task tune [--data FILE --target COL] [--set tune.strategy=random --set tune.n_trials=5] [--json]
 */
import { defineTask, main } from "../src/cli/task.ts";
import { formatNumber } from "../src/core/format.ts";
import { tune, type TuneResult } from "../src/training/tune.ts";

function setFlags(params: Record<string, unknown>): string {
  return Object.entries(params).map(([k, v]) => `--set model.${k}=${v === null ? "null" : String(v)}`).join(
    " ",
  );
}

export const spec = defineTask({
  name: "tune",
  description:
    "Search tune.space (grid or random) with cross-validation on the training rows. Each trial is a " +
    "child run of one parent run in the tracking store; prints the best params and the train command that uses them.",
  usage: "tune [--data FILE --target COL] [--set tune.KEY=VALUE ...] [--json]",
  options: {
    data: { type: "string", description: "tune on this file instead of the feature data", valueName: "file" },
    target: {
      type: "string",
      description: "the column to predict (default: data.target)",
      valueName: "column",
    },
    experiment: {
      type: "string",
      description: "experiment name (default: tracking.experiment)",
      valueName: "name",
    },
  },
  async run(ctx) {
    const r = await tune({
      config: ctx.config,
      data: ctx.values.data,
      target: ctx.values.target,
      experiment: ctx.values.experiment,
    });
    const data = ctx.values.data ? `--data ${ctx.values.data} ` : "";
    const target = ctx.values.target ? `--target ${ctx.values.target} ` : "";
    return { ...r, train_command: `deno task train ${data}${target}${setFlags(r.best.params)}` };
  },
  summary(r: TuneResult & { train_command: string }) {
    const fmt = (v: number) => formatNumber(v, { fixedIntegers: true });
    const rows = [...r.trials].sort((a, b) => a.trial - b.trial).map((t) =>
      `${t === r.best ? "*" : " "} trial ${String(t.trial).padStart(2)}  ${r.metric} ${fmt(t.score)} ± ${
        fmt(t.std)
      }  ` +
      JSON.stringify(t.params)
    );
    return [
      `${r.strategy} search, ${r.trials.length} trials, ${r.folds}-fold CV, metric ${r.metric}` +
      (r.parent_run_id ? ` (parent run ${r.parent_run_id})` : ""),
      ...rows,
      `best: ${r.metric} ${fmt(r.best.score)} with ${JSON.stringify(r.best.params)}`,
      `train it: ${r.train_command}`,
    ].join("\n");
  },
});

if (import.meta.main) await main(spec);
