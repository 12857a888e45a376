/** Fitting: preprocessing fitted on the training columns, then the engine on the encoded matrix. */
import { UserError } from "../core/errors.ts";
import { ProgressBar } from "../core/progress.ts";
import type { ModelParams } from "../config/schema.ts";
import { createEstimator, engineEncoding, type EstimatorKind, progressTotal } from "./engines/registry.ts";
import { type Columns, type Encoding, type Exclusion, Preprocessor } from "./preprocess/index.ts";
import type { Estimator, Matrix } from "./types.ts";

/** "auto" encoding: what the engine asks for (one-hot for logistic regression, ordinal codes for trees). */
export function resolveEncoding(params: ModelParams): Encoding {
  if (params.encoding !== "auto") return params.encoding;
  return engineEncoding(params);
}

export interface FitOptions {
  exclude?: readonly Exclusion[];
  progress?: boolean;
  /** validation columns and targets, for engines that stop early on them */
  validation?: { columns: Columns; y: Float64Array };
}

/** Fits preprocessing on the training columns, then the engine on the encoded matrix. */
export async function fitModel(
  columns: Columns,
  y: Float64Array,
  params: ModelParams,
  kind: EstimatorKind,
  opts: FitOptions = {},
): Promise<{ preprocessor: Preprocessor; estimator: Estimator; X: Matrix }> {
  const preprocessor = Preprocessor.fit(columns, {
    encoding: resolveEncoding(params),
    maxCategories: params.max_categories,
    exclude: opts.exclude,
  });
  if (preprocessor.width === 0) throw new UserError("no usable input columns left after preprocessing");
  const X = preprocessor.transform(columns, y.length);
  const categorical = preprocessor.categoricalFeatures();
  const estimator = createEstimator(params, kind, {
    featureNames: preprocessor.featureNames,
    categorical,
    sourceColumns: preprocessor.featureSources(),
  });
  // the bar's length: what the engine reports once it knows the rows (boosting's round limit), else its config
  let bar: ProgressBar | undefined, total = 0, last = 0;
  const onProgress = opts.progress && progressTotal(params)
    ? (done: number, reported?: number) => {
      if (!bar) {
        total = reported ?? progressTotal(params)!;
        bar = new ProgressBar("training trees", total);
      }
      bar.tick(done - last);
      last = done;
    }
    : undefined;
  const validation = opts.validation
    ? { X: preprocessor.transform(opts.validation.columns, opts.validation.y.length), y: opts.validation.y }
    : undefined;
  // engines use what they know of these options (progress, categorical splits, early stopping) and ignore the rest
  await estimator.fit(X, y, { onProgress, categorical, ...(validation ? { validation } : {}) });
  // an engine that ends before its round limit stopped early: the bar says so, not 100%
  if (bar && total && last < total) bar.stoppedAt("early stopping");
  return { preprocessor, estimator, X };
}
