/**
 * Forest parameters under scikit-learn's names and meanings, their defaults,
 * and their validation (a bad value is a UserError: one clear line).
 */
import { UserError } from "../../../core/errors.ts";
import { type BuildSettings, CRITERION_ENTROPY, CRITERION_GINI, CRITERION_SQUARED_ERROR } from "./builder.ts";
import { MAX_BINS } from "./binning.ts";

export type MaxFeatures = "sqrt" | "log2" | number | null;
export type ClassWeight = "balanced" | "balanced_subsample" | number[] | Record<string, number> | null;

export interface ForestParams {
  /** number of trees (100) */
  n_estimators?: number;
  /** "gini" (default) | "entropy" | "log_loss" for classifiers; "squared_error" for regressors */
  criterion?: string;
  /** maximum depth, null for unlimited (null) */
  max_depth?: number | null;
  /** an int >= 2, or a fraction of the rows in (0, 1] (2) */
  min_samples_split?: number;
  /** an int >= 1, or a fraction of the rows in (0, 1) (1) */
  min_samples_leaf?: number;
  /** "sqrt" (classifier default), "log2", a fraction in (0, 1], an int, or null = all (regressor default 1.0) */
  max_features?: MaxFeatures;
  /** split only if the weighted impurity decrease is at least this (0) */
  min_impurity_decrease?: number;
  /** draw a bootstrap sample for each tree (true) */
  bootstrap?: boolean;
  /** compute the out-of-bag score after fit (false) */
  oob_score?: boolean;
  /** workers; default navigator.hardwareConcurrency (capped at n_estimators); 1 = main thread; -1 = all cores */
  n_jobs?: number | null;
  /** seed of every random choice (0) */
  random_state?: number | null;
  /** classifier: "balanced", "balanced_subsample", weights per class index, or null (null) */
  class_weight?: ClassWeight;
  /** bootstrap sample size: an int, or a fraction of the rows in (0, 1]; null = all rows (null) */
  max_samples?: number | null;
  /** histogram bins per feature, 2..255 (255); an Orchard extension */
  max_bins?: number;
}

export type ResolvedParams = Required<ForestParams>;

const KNOWN = new Set([
  "n_estimators",
  "criterion",
  "max_depth",
  "min_samples_split",
  "min_samples_leaf",
  "max_features",
  "min_impurity_decrease",
  "bootstrap",
  "oob_score",
  "n_jobs",
  "random_state",
  "class_weight",
  "max_samples",
  "max_bins",
]);

function bad(name: string, value: unknown, want: string): never {
  throw new UserError(`model.${name}: ${JSON.stringify(value)} is invalid; expected ${want}`);
}
const isInt = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v);
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** Fills defaults and validates; throws UserError on an unknown name or a bad value. */
export function resolveParams(kind: "classifier" | "regressor", params: ForestParams = {}): ResolvedParams {
  for (const key of Object.keys(params)) {
    if (!KNOWN.has(key)) throw new UserError(`model.${key}: unknown random forest parameter`);
  }
  const cls = kind === "classifier";
  const p: ResolvedParams = {
    n_estimators: params.n_estimators ?? 100,
    criterion: params.criterion ?? (cls ? "gini" : "squared_error"),
    max_depth: params.max_depth ?? null,
    min_samples_split: params.min_samples_split ?? 2,
    min_samples_leaf: params.min_samples_leaf ?? 1,
    max_features: params.max_features === undefined ? (cls ? "sqrt" : 1.0) : params.max_features,
    min_impurity_decrease: params.min_impurity_decrease ?? 0,
    bootstrap: params.bootstrap ?? true,
    oob_score: params.oob_score ?? false,
    n_jobs: params.n_jobs ?? null,
    random_state: params.random_state ?? 0,
    class_weight: params.class_weight ?? null,
    max_samples: params.max_samples ?? null,
    max_bins: params.max_bins ?? MAX_BINS,
  };
  if (!isInt(p.n_estimators) || p.n_estimators < 1) bad("n_estimators", p.n_estimators, "an integer >= 1");
  const crits = cls ? ["gini", "entropy", "log_loss"] : ["squared_error"];
  if (!crits.includes(p.criterion)) bad("criterion", p.criterion, crits.join(" or "));
  if (p.max_depth !== null && (!isInt(p.max_depth) || p.max_depth < 1)) {
    bad("max_depth", p.max_depth, "an integer >= 1 or null");
  }
  const mss = p.min_samples_split;
  if (!isNum(mss) || (isInt(mss) ? mss < 2 : !(mss > 0 && mss <= 1))) {
    bad("min_samples_split", mss, "an integer >= 2 or a fraction in (0, 1]");
  }
  const msl = p.min_samples_leaf;
  if (!isNum(msl) || (isInt(msl) ? msl < 1 : !(msl > 0 && msl < 1))) {
    bad("min_samples_leaf", msl, "an integer >= 1 or a fraction in (0, 1)");
  }
  const mf = p.max_features;
  if (
    !(mf === null || mf === "sqrt" || mf === "log2" ||
      (isInt(mf) && mf >= 1) || (isNum(mf) && mf > 0 && mf <= 1))
  ) bad("max_features", mf, '"sqrt", "log2", an integer >= 1, a fraction in (0, 1], or null');
  if (!isNum(p.min_impurity_decrease) || p.min_impurity_decrease < 0) {
    bad("min_impurity_decrease", p.min_impurity_decrease, "a number >= 0");
  }
  if (typeof p.bootstrap !== "boolean") bad("bootstrap", p.bootstrap, "true or false");
  if (typeof p.oob_score !== "boolean") bad("oob_score", p.oob_score, "true or false");
  if (p.oob_score && !p.bootstrap) bad("oob_score", p.oob_score, "false when bootstrap is false");
  if (p.n_jobs !== null && (!isInt(p.n_jobs) || p.n_jobs === 0 || p.n_jobs < -1)) {
    bad("n_jobs", p.n_jobs, "an integer >= 1, -1, or null");
  }
  if (!isInt(p.random_state) || p.random_state < 0) bad("random_state", p.random_state, "an integer >= 0");
  const cw = p.class_weight;
  if (cw !== null) {
    if (!cls) bad("class_weight", cw, "null for a regressor");
    const ok = cw === "balanced" || cw === "balanced_subsample" ||
      (Array.isArray(cw) && cw.every((v) => isNum(v) && v >= 0)) ||
      (typeof cw === "object" && !Array.isArray(cw) && Object.values(cw).every((v) => isNum(v) && v >= 0));
    if (!ok) bad("class_weight", cw, '"balanced", "balanced_subsample", a weight per class, or null');
  }
  const ms = p.max_samples;
  if (ms !== null) {
    if (!p.bootstrap) bad("max_samples", ms, "null when bootstrap is false");
    if (!isNum(ms) || (isInt(ms) ? ms < 1 : !(ms > 0 && ms <= 1))) {
      bad("max_samples", ms, "an integer >= 1, a fraction in (0, 1], or null");
    }
  }
  if (!isInt(p.max_bins) || p.max_bins < 2 || p.max_bins > MAX_BINS) {
    bad("max_bins", p.max_bins, `an integer in 2..${MAX_BINS}`);
  }
  return p;
}

/** Number of features drawn per split for `p` columns. */
function resolveMtry(mf: MaxFeatures, p: number): number {
  if (mf === null) return p;
  if (mf === "sqrt") return Math.max(1, Math.floor(Math.sqrt(p)));
  if (mf === "log2") return Math.max(1, Math.floor(Math.log2(p)));
  if (Number.isInteger(mf) && mf !== 1) {
    if (mf > p) throw new UserError(`model.max_features: ${mf} is more than the ${p} input columns`);
    return mf;
  }
  // a fraction (1 and 1.0 are the same number in JS: "all features", as scikit-learn's 1.0)
  return Math.max(1, Math.floor(mf * p));
}

/** Workers to use for `nTrees` trees. */
export function resolveJobs(nJobs: number | null, nTrees: number): number {
  const cores = typeof navigator !== "undefined" && navigator.hardwareConcurrency
    ? navigator.hardwareConcurrency
    : 1;
  const want = nJobs === null || nJobs === -1 ? cores : nJobs;
  return Math.max(1, Math.min(want, nTrees));
}

/** The builder's settings for data with `n` rows and `p` columns. */
export function buildSettings(p: ResolvedParams, n: number, cols: number): BuildSettings {
  const criterion = p.criterion === "gini"
    ? CRITERION_GINI
    : p.criterion === "squared_error"
    ? CRITERION_SQUARED_ERROR
    : CRITERION_ENTROPY;
  const mss = Number.isInteger(p.min_samples_split)
    ? p.min_samples_split
    : Math.max(2, Math.ceil(p.min_samples_split * n));
  const msl = Number.isInteger(p.min_samples_leaf)
    ? p.min_samples_leaf
    : Math.max(1, Math.ceil(p.min_samples_leaf * n));
  const ms = p.max_samples;
  const nDraw = ms === null ? n : Number.isInteger(ms) ? ms : Math.max(1, Math.round(ms * n));
  if (nDraw > n) throw new UserError(`model.max_samples: ${ms} is more than the ${n} training rows`);
  return {
    criterion,
    maxDepth: p.max_depth ?? Infinity,
    minSamplesSplit: mss,
    minSamplesLeaf: msl,
    minImpurityDecrease: p.min_impurity_decrease,
    mtry: resolveMtry(p.max_features, cols),
    bootstrap: p.bootstrap,
    nDraw,
    balancedSubsample: p.class_weight === "balanced_subsample",
    randomState: p.random_state ?? 0,
  };
}
