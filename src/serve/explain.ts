/**
 * Explanations on the scoring path: `POST /predict?explain=true[&top=N]` and
 * `deno task predict --explain`. Each record gets the largest SHAP
 * contributions of its source columns (src/models/explain.ts, the numbers
 * `Model.explain` gives), its base value and its raw output, on the engine's
 * scale. Nothing here runs unless a caller asks: without `?` in the URL the
 * route never parses a query.
 */
import type { LoadedModel } from "../models/artifact.ts";
import {
  canExplain,
  type Contribution,
  type Explainable,
  explainMatrix,
  notExplainable,
  topContributions,
} from "../models/explain.ts";
import type { ExplainScale, Matrix } from "../models/types.ts";
import type { ServedModel } from "./holder.ts";
import { HttpError } from "./http.ts";
import { type ScoredTable, tableRecords } from "./scoring.ts";

/** Contributions per record unless `top` says otherwise. */
export const DEFAULT_TOP = 5;
/** `top` at most (a record's answer stays small). */
export const MAX_TOP = 100;

/** One record's explanation: base_value + the sum of every column's contribution = output. */
export interface RecordExplanation {
  /** classification: the class whose output is explained (binary: the positive class; else the predicted one) */
  class?: string | number | boolean;
  /** what base_value and the contributions add up to: probability, log_odds, logit or value */
  scale: ExplainScale;
  /** the model's expected output over its training data */
  base_value: number;
  /** the record's raw output on `scale` */
  output: number;
  /** the largest contributions by absolute value, at most `top` (columns contributing nothing are left out) */
  top: Contribution[];
  /** the sum of the other columns' contributions: base_value + top + rest = output */
  rest: number;
}

/**
 * `?explain` and `?top` of a request URL: null when explain is absent or
 * false, else how many contributions to return. A bad value is a 422 naming
 * the parameter. `top` is checked whenever given, and applies with explain.
 */
export function explainQuery(url: string): { top: number } | null {
  const q = url.indexOf("?");
  if (q < 0) return null;
  const params = new URLSearchParams(url.slice(q + 1));
  const flag = params.get("explain"), topText = params.get("top");
  let on = false;
  if (flag !== null) {
    const f = flag.trim().toLowerCase();
    if (f === "true" || f === "1") on = true;
    else if (f !== "false" && f !== "0") throw queryError("explain", `expected true or false, got "${flag}"`);
  }
  let top = DEFAULT_TOP;
  if (topText !== null) {
    // digits only: Number() also reads "0x3", "1e1" and " 1"
    const n = /^\d{1,3}$/.test(topText) ? Number(topText) : NaN;
    if (!(n >= 1 && n <= MAX_TOP)) {
      throw queryError("top", `expected a whole number from 1 to ${MAX_TOP}, got "${topText}"`);
    }
    top = n;
  }
  return on ? { top } : null;
}

function queryError(field: string, message: string): HttpError {
  return new HttpError(422, `invalid query parameter ${field}: ${message}`, [{ field, message }]);
}

const sources = new WeakMap<ServedModel, Explainable | null>();

/** What explaining needs of a served model (built once per loaded version), or null when it has none. */
function explainSource(m: ServedModel): Explainable | null {
  let src = sources.get(m);
  if (src === undefined) {
    const model = m.model as Partial<LoadedModel>;
    src = model.preprocessor && model.estimator
      ? {
        engine: model.manifest?.engine ?? m.name,
        task: m.model.signature.target.kind,
        classes: m.model.classes,
        positiveClass: m.model.positiveClass,
        preprocessor: model.preprocessor,
        estimator: model.estimator,
      }
      : null;
    sources.set(m, src);
  }
  return src;
}

/** The served model's engine, when it cannot explain (for the one message); null when it can. */
export function explainRefusal(m: ServedModel): string | null {
  const src = explainSource(m);
  if (!src) {
    return `explain: model ${m.name} version ${m.version} has no SHAP values (not an Orchard artifact)`;
  }
  return canExplain(src) ? null : notExplainable(src.engine).message;
}

/**
 * The top contributions of each validated record (the records as the
 * validator returned them: the values shown are the ones scored). A model
 * that cannot explain is a 422 naming its engine.
 */
export function explainRecords(
  m: ServedModel,
  records: Record<string, unknown>[],
  top: number,
): RecordExplanation[] {
  const src = explainable(m);
  return explained(src, src.preprocessor.transformRecords(records), top, (i, col) => records[i][col]);
}

/**
 * The same explanations for a table scored by scoreTable: from its matrix (no
 * second preprocessing) and its validated columns.
 */
export function explainTable(m: ServedModel, t: ScoredTable, top: number): RecordExplanation[] {
  const src = explainable(m);
  if (!t.X) return explainRecords(m, tableRecords(m, t.columns, t.rows), top);
  const at = new Map(m.validator.columns.map((c, j) => [c.name, j]));
  return explained(src, t.X, top, (i, col) => {
    const j = at.get(col);
    return j === undefined ? undefined : t.columns[j][i];
  });
}

/** The served model's Explainable, or a 422 naming its engine. */
function explainable(m: ServedModel): Explainable {
  const why = explainRefusal(m);
  if (why) throw new HttpError(422, why, [{ field: "explain", message: why }]);
  return explainSource(m)!;
}

function explained(
  src: Explainable,
  X: Matrix,
  top: number,
  value: (row: number, column: string) => unknown,
): RecordExplanation[] {
  const e = explainMatrix(src, X);
  const out = new Array<RecordExplanation>(X.rows);
  for (let i = 0; i < X.rows; i++) {
    const best = topContributions(e, i, top, (col) => value(i, col));
    let shown = 0;
    for (const b of best) shown += b.contribution;
    out[i] = {
      ...(e.classes ? { class: e.classes[i] } : {}),
      scale: e.scale,
      base_value: e.bias[i],
      output: e.values[i],
      top: best,
      rest: e.values[i] - e.bias[i] - shown,
    };
  }
  return out;
}
