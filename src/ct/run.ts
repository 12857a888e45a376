/**
 * One continuous-training job (`deno task ct`), as a function the task and
 * tests call:
 *
 *   1. run the pipeline's data stages (`deno task pipeline:features`: cached
 *      stages skip), unless the candidate trains on a --data file;
 *   2. train the candidate (the train stage, tracked as a run);
 *   3. score the candidate and the current @champion on the same rows: the
 *      candidate's validation rows, read by the train stage's own loader;
 *   4. apply the model's registry gates (src/registry/gates.ts) with the
 *      champion's scores on those rows as the baseline;
 *   5. register the candidate as @challenger when they pass (never champion:
 *      promotion stays a decision, `models promote`);
 *   6. write reports/ct/<run>/report.md, report.json and the PNG charts.
 *
 * The job "ran" whatever the gates decided; the caller decides what a
 * regression on the primary metric means (compare.ts).
 */
import { join } from "node:path";
import type { Config } from "../config/schema.ts";
import { trackingLocation } from "../config/paths.ts";
import { writeJsonAtomic, writeTextAtomic } from "../core/atomic.ts";
import { UserError } from "../core/errors.ts";
import { log } from "../core/progress.ts";
import { type Evaluation, EVALUATION_METRICS, isRunMetric } from "../models/evaluate.ts";
import { Model } from "../models/model.ts";
import { evaluateGates } from "../registry/gates.ts";
import { CHAMPION, ModelRegistry } from "../registry/registry.ts";
import { modelSettings, taskKindOfTarget } from "../registry/settings.ts";
import { diffRuns } from "../tracking/diff.ts";
import { type Run, TrackingStore } from "../tracking/store.ts";
import { type DataOptions, loadTrainingInput, train } from "../training/train.ts";
import { type Scored, writeComparisonCharts } from "./charts.ts";
import { metricRows, primaryMetric, verdict } from "./compare.ts";
import { trainDataset, trainingSetDrift } from "./data.ts";
import { renderCtReport } from "./report.ts";
import type { CtChampion, CtResult } from "./types.ts";

export type { CtChampion, CtResult } from "./types.ts";

/** The alias a candidate that passes the gates gets. */
export const CHALLENGER = "challenger";

export interface CtOptions extends DataOptions {
  config: Config;
  /** the registered model (default: registry.model_name, or the --data file's stem as train names it) */
  modelName?: string;
  /** run the pipeline's data stages first (default: yes, unless `data` is given) */
  pipeline?: boolean;
  /** how the pipeline is run (default: `deno task pipeline:features`); tests pass their own */
  runPipeline?: () => Promise<void>;
  /** the metric that decides "worse" (default by task kind: compare.ts) */
  primaryMetric?: string;
  /** register a candidate whose input columns differ from the latest version's */
  allowSchemaChange?: boolean;
  /** where reports go (default <paths.reports>/ct) */
  reportsDir?: string;
  verbose?: boolean;
}

/** Params that name a run's data files (train logs them); the data diff covers what they hold. */
const DATA_PARAMS = new Set(["data", "validation_data"]);

/** The pipeline task whose stages ct runs before training (raw data, prep, features). */
export const PIPELINE_TASK = "pipeline:features";

/** `deno task pipeline:features`, its output on stderr (stdout stays the task's: --json). */
async function defaultPipeline(): Promise<void> {
  const child = new Deno.Command("deno", {
    args: ["task", PIPELINE_TASK],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  for await (const chunk of child.stdout) await Deno.stderr.write(chunk);
  const { code } = await child.status;
  if (code !== 0) throw new Error(`deno task ${PIPELINE_TASK} failed (exit ${code})`);
}

/** The current champion, loaded and checksum-verified, or why there is none. */
async function loadChampion(
  registry: ModelRegistry,
  name: string,
): Promise<{ version: number; runId: string; dir: string; metrics: Record<string, number> } | string> {
  if (!(await registry.hasModel(name))) return `model '${name}' is not registered yet`;
  const version = await registry.aliasVersion(name, CHAMPION);
  if (version === undefined) return `model '${name}' has no @${CHAMPION}`;
  const v = await registry.getVersion(name, version);
  return { version, runId: v.runId, dir: await registry.verify(name, version), metrics: v.metrics };
}

/** Runs the job; writes the report; returns what it found. */
export async function runCt(opts: CtOptions): Promise<CtResult> {
  const { config } = opts;
  const verbose = opts.verbose ?? true;
  const say = (m: string) => verbose && log(m);
  // a bad metric name is the user's error before any work is done
  if (opts.primaryMetric !== undefined) {
    primaryMetric("binary", opts.primaryMetric);
    if (!isRunMetric(opts.primaryMetric.trim())) {
      throw new UserError(
        `--primary-metric: '${opts.primaryMetric}' is not a metric a run has (${
          [...new Set(Object.values(EVALUATION_METRICS).flat())].join(", ")
        }, or cv_mean_<metric>)`,
      );
    }
  }

  let pipeline: string;
  if (opts.data) pipeline = "skipped (the candidate trains on --data)";
  else if (opts.pipeline === false) pipeline = "skipped (--no-pipeline)";
  else {
    say(`ct: deno task ${PIPELINE_TASK} (stages whose inputs are unchanged skip)`);
    await (opts.runPipeline ?? defaultPipeline)();
    pipeline = `ran \`deno task ${PIPELINE_TASK}\` (cached stages skipped)`;
  }

  say("ct: training the candidate");
  const dataOpts: DataOptions = {
    data: opts.data,
    target: opts.target,
    validation: opts.validation,
    featureService: opts.featureService,
  };
  const trained = await train({
    config,
    ...dataOpts,
    modelName: opts.modelName,
    tags: { "orchard.ct": "candidate" },
    // the ct report is this job's report; the train report's SHAP pass would only slow CI down
    reportsDir: null,
    verbose,
  });
  const name = trained.model_name;
  const kind = taskKindOfTarget(trained);
  const settings = modelSettings(config, name, kind);
  const primary = primaryMetric(kind, opts.primaryMetric);

  // the rows both models are scored on: the candidate's validation rows, as train loaded them
  const data = await loadTrainingInput(config, dataOpts);
  const rows = data.validation.columns;

  const store = await TrackingStore.open(trackingLocation(config));
  try {
    const registry = await ModelRegistry.open(store, {
      modelsDir: config.paths.models,
      gates: settings.gates,
    });
    const candidateRun = await store.getRun(trained.run_id);
    const candidateModel = Model.load(trained.artifact);
    const candidateEval = candidateModel.evaluate(rows);

    let championNote: string | undefined;
    let championEval: Evaluation | undefined;
    let championModel: Model | undefined;
    let championRun: Run | undefined;
    const found = await loadChampion(registry, name).catch((e) => {
      if (e instanceof UserError) return `the champion cannot be loaded: ${e.message}`;
      throw e;
    });
    if (typeof found === "string") championNote = found;
    else {
      try {
        championModel = Model.load(found.dir);
        championEval = championModel.evaluate(rows);
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        championNote =
          `champion v${found.version} cannot score the candidate's validation rows: ${e.message}`;
      }
      championRun = await store.getRun(found.runId).catch(() => undefined);
    }
    // a = the champion's run (none: an empty one), b = the candidate's
    const diff = diffRuns(championRun ?? { runId: "", params: {}, metrics: {}, datasets: [] }, candidateRun);
    const champion: CtChampion | null = typeof found !== "string" && championEval
      ? {
        version: found.version,
        run_id: found.runId,
        uri: `models:/${name}/${found.version}`,
        metrics: championEval.metrics,
        registered_metrics: found.metrics,
        same_validation: diff.datasets.find((d) => d.name === "validation")?.same ?? false,
      }
      : null;

    const candidateMetrics = candidateRun.metrics;
    const gates = evaluateGates(
      settings.gates,
      candidateMetrics,
      champion ? { version: champion.version, metrics: champion.metrics } : null,
    );
    const v = verdict(
      candidateMetrics,
      champion ? { label: `champion v${champion.version}`, metrics: champion.metrics } : null,
      primary,
    );

    let registered: CtResult["registered"] = null;
    let registrationNote: string | undefined;
    if (gates.passed) {
      try {
        const reg = await registry.register({
          runId: trained.run_id,
          name,
          alias: [CHALLENGER],
          allowSchemaChange: opts.allowSchemaChange,
        });
        registered = { version: reg.version, aliases: reg.aliases, uri: `models:/${name}@${CHALLENGER}` };
        say(`ct: gates passed: ${name} version ${reg.version} is @${CHALLENGER}`);
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        registrationNote = e.message;
      }
    } else say(`ct: gates failed (${gates.reasons.join("; ")}): not registered`);

    const drift = trainingSetDrift(
      config,
      champion ? trainDataset(championRun) : null,
      trainDataset(candidateRun),
      data.target,
    );

    const dir = join(opts.reportsDir ?? join(config.paths.reports, "ct"), trained.run_id);
    Deno.mkdirSync(dir, { recursive: true });
    const scored: Scored[] = [{
      name: `candidate ${trained.run_id.slice(0, 8)}`,
      evaluation: candidateEval,
      classes: candidateModel.classes,
      threshold: kind === "binary" ? candidateModel.threshold : undefined,
      auc: candidateMetrics.roc_auc,
    }];
    if (champion && championEval && championModel) {
      scored.push({
        name: `champion v${champion.version}`,
        evaluation: championEval,
        classes: championModel.classes,
        threshold: kind === "binary" ? championModel.threshold : undefined,
        auc: champion.metrics.roc_auc,
      });
    }
    const charts = await writeComparisonCharts(dir, kind, scored);
    const report = join(dir, "report.md");
    const result: CtResult = {
      model_name: name,
      kind,
      pipeline,
      candidate: {
        run_id: trained.run_id,
        metrics: candidateMetrics,
        validation_rows: trained.validation_rows,
      },
      champion,
      ...(championNote ? { champion_note: championNote } : {}),
      metrics: metricRows(candidateMetrics, champion?.metrics ?? null, primary, Object.keys(settings.gates)),
      verdict: v,
      gates,
      gates_from: settings.from.gates,
      registered,
      ...(registrationNote ? { registration_note: registrationNote } : {}),
      // a run's data path is a param too: when the bytes are the same, a new path is no change
      params: champion
        ? diff.params.filter((p) => !(DATA_PARAMS.has(p.key) && diff.datasets.every((d) => d.same)))
        : [],
      unchanged_params: champion ? diff.unchangedParams : 0,
      // a = the champion's run, b = the candidate's
      datasets: diff.datasets,
      drift,
      report,
      charts,
    };
    writeJsonAtomic(join(dir, "report.json"), result);
    writeTextAtomic(report, renderCtReport(result));
    // the run says what ct found, for `runs --filter "tags.orchard.ct.gates = 'passed'"` and the UI
    await store.setTags(trained.run_id, {
      "orchard.ct.champion": champion ? String(champion.version) : "none",
      "orchard.ct.gates": gates.passed ? "passed" : "failed",
      "orchard.ct.regression": String(v.regression),
    });
    await store.logArtifact(trained.run_id, "ct_report", report);
    return result;
  } finally {
    await store.close();
  }
}
