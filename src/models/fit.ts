/** Fitting: preprocessing fitted on the training columns, then the engine on the encoded matrix. */
import { UserError } from "../core/errors.ts";
import { ProgressBar } from "../core/progress.ts";
import type { ModelParams } from "../config/schema.ts";
import { createEstimator, engineEncoding, type EstimatorKind, progressTotal } from "./engines/registry.ts";
import { type Columns, type Encoding, Preprocessor } from "./preprocess/index.ts";
import type { Estimator, Matrix } from "./types.ts";

/** "auto" encoding: what the engine asks for (one-hot for logistic regression, ordinal codes for trees). */
export function resolveEncoding(params: ModelParams): Encoding {
  if (params.encoding !== "auto") return params.encoding;
  return engineEncoding(params);
}

type ProgressFit = {
  fit(
    X: Matrix,
    y: Float64Array,
    opts: { onProgress?: (done: number, total: number) => void },
  ): Promise<void>;
};

export interface FitOptions {
  exclude?: string[];
  progress?: boolean;
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
  const estimator = createEstimator(params, kind);
  const total = opts.progress ? progressTotal(params) : undefined;
  const bar = total ? new ProgressBar("training trees", total) : undefined;
  let last = 0;
  const onProgress = bar
    ? (done: number) => {
      bar.tick(done - last);
      last = done;
    }
    : undefined;
  // engines that grow trees report progress through fit's third argument; others ignore it
  await (estimator as ProgressFit).fit(X, y, { onProgress });
  if (bar && total && last < total) bar.tick(total - last);
  return { preprocessor, estimator, X };
}
