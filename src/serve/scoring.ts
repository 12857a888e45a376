/**
 * The one scoring path shared by POST /predict, POST /invocations and
 * `deno task predict`: records validated against the model's signature, then
 * the artifact's saved preprocessing, then the engine. One record never goes
 * through a DataFrame.
 *
 * The service scores a request as a table in one pass (`scoreTable`): the
 * validator writes the values into one array per column (no record object per
 * row), the preprocessing encodes them into one Float64Array matrix
 * (Preprocessor.transform, the same encodeCell as training), the engine
 * predicts the whole matrix, and the answer, the prediction log's lines and the
 * class counts are written from the typed arrays (`TableWriter`), without a
 * Prediction object per row. A single record is a table of one row. The text is
 * the same, byte for byte, as JSON.stringify of the Prediction objects that
 * `predictRecords` returns (tests/serve/scoring_test.ts), and a model that is
 * not an Orchard artifact (no preprocessor and estimator) is scored through its
 * own predictRecords.
 */
import type { LoadedModel } from "../models/artifact.ts";
import { type Estimator, type Matrix, matrix, type Prediction } from "../models/types.ts";
import type { ServedModel } from "./holder.ts";
import { type Metrics, predictionKey } from "./metrics.ts";

/** Validates raw records (422 naming each bad field) and scores them. */
export function scoreRecords(
  m: ServedModel,
  raw: unknown[],
  maxBatch: number,
): { records: Record<string, unknown>[]; predictions: Prediction[] } {
  const records = m.validator.many(raw, maxBatch);
  return { records, predictions: predictValidated(m, records) };
}

/** Scores records that already passed the validator. */
export function predictValidated(m: ServedModel, records: Record<string, unknown>[]): Prediction[] {
  const preds = m.model.predictRecords(records);
  if (!Array.isArray(preds) || preds.length !== records.length) {
    throw new Error(
      `model returned ${
        Array.isArray(preds) ? preds.length : "no"
      } predictions for ${records.length} records`,
    );
  }
  return preds;
}

/** A validated, scored request: what the answer, the log and the metrics are written from. */
export interface ScoredTable {
  rows: number;
  /** the validated values, one array per signature column (validator.columns order) */
  columns: unknown[][];
  /** the records as received (parsed JSON), when the caller has them: the log line reuses one whose keys are the signature's */
  raw: readonly unknown[] | null;
  /** the preprocessed matrix (Orchard artifacts) */
  X: Matrix | null;
  /** classification: the predicted class index per row */
  label: Int32Array | null;
  /** classification: rows x classes probabilities, row-major */
  proba: Float64Array | null;
  /** regression: the predicted value per row */
  values: Float64Array | null;
  /** a model that is not an Orchard artifact: its own predictions */
  predictions: Prediction[] | null;
}

/** What scoring a table needs of a served model, built once per loaded version. */
interface Plan {
  names: string[];
  /** for each preprocessing column, the index of its signature column (-1: not in the signature) */
  positions: number[];
  /** the artifact's preprocessing and engine (null: not an Orchard artifact) */
  pre: LoadedModel["preprocessor"] | null;
  estimator: Estimator | null;
  regression: boolean;
  k: number;
  pos: number;
  threshold: number;
  classes: readonly (string | number | boolean)[];
  /** the one-row buffers, made on the first `reuse` scoring */
  row?: RowBuffers;
}

const plans = new WeakMap<ServedModel, Plan>();

/** Whether the served model is a regressor (its predictions are values, not classes). */
export function isRegressor(m: ServedModel): boolean {
  return planOf(m).regression;
}

/** Whether scoreTable scores the model through its artifact's preprocessing and engine (typed arrays throughout). */
export function scoredInArrays(m: ServedModel): boolean {
  const p = planOf(m);
  return p.pre !== null && p.estimator !== null;
}

function planOf(m: ServedModel): Plan {
  let p = plans.get(m);
  if (p) return p;
  const model = m.model as Partial<LoadedModel>;
  const classes = model.classes ?? [];
  const pos = classes.findIndex((c) => c === model.positiveClass);
  const orchard = model.preprocessor && model.estimator && model.manifest;
  const names = m.validator.columns.map((c) => c.name);
  p = {
    names,
    positions: orchard ? model.preprocessor!.columns.map((c) => names.indexOf(c.name)) : [],
    pre: orchard ? model.preprocessor! : null,
    estimator: orchard ? model.estimator! : null,
    regression: (model.manifest?.task ?? m.model.signature.target.kind) === "regression",
    k: classes.length,
    pos: pos < 0 ? 1 : pos,
    threshold: model.manifest?.threshold ?? 0.5,
    classes,
  };
  plans.set(m, p);
  return p;
}

/** The records of a table (for a model scored through its own predictRecords, and for explanations). */
export function tableRecords(m: ServedModel, columns: unknown[][], rows: number): Record<string, unknown>[] {
  const names = planOf(m).names;
  const out = new Array<Record<string, unknown>>(rows);
  for (let i = 0; i < rows; i++) {
    const rec: Record<string, unknown> = {};
    for (let j = 0; j < names.length; j++) rec[names[j]] = columns[j][i];
    out[i] = rec;
  }
  return out;
}

/**
 * A model's buffers for scoring one record (scoreTable's `reuse`): allocated
 * once, since a typed array costs 0.5-0.8 µs to allocate in Deno (more than
 * a 30-tree model takes to score the row), against 0.04 µs for a view.
 */
interface RowBuffers {
  X: Matrix;
  proba: Float64Array;
  value: Float64Array;
  label: Int32Array;
}

function rowBuffers(p: Plan): RowBuffers {
  return p.row ??= {
    X: matrix(1, p.pre!.width, new Float64Array(p.pre!.width)),
    proba: new Float64Array(Math.max(1, p.k)),
    value: new Float64Array(1),
    label: new Int32Array(1),
  };
}

/** What scoreTable may do with a one-row table's results. */
export interface ScoreOptions {
  /**
   * one row is scored into the model's own buffers (RowBuffers) through the
   * engine's one-row methods: the table's X, proba, label and values are then
   * valid until the next `reuse` scoring of the same model, so a caller must be
   * done with them before it awaits (the service's handlers are)
   */
  reuse?: boolean;
}

/**
 * Scores validated columns (validator.table) in one pass: preprocessing into
 * one matrix, the engine over it, and the decision (binary: the positive class
 * when its probability reaches the threshold; more classes: the most probable)
 * as predictionsFromProba makes it.
 */
export function scoreTable(
  m: ServedModel,
  columns: unknown[][],
  raw: readonly unknown[] | null = null,
  opts: ScoreOptions = {},
): ScoredTable {
  const p = planOf(m);
  const rows = columns.length ? columns[0].length : raw?.length ?? 0;
  const out: ScoredTable = {
    rows,
    columns,
    raw: raw && raw.length === rows ? raw : null,
    X: null,
    label: null,
    proba: null,
    values: null,
    predictions: null,
  };
  const est = p.estimator;
  if (!p.pre || !est) {
    out.predictions = predictValidated(m, tableRecords(m, columns, rows));
    return out;
  }
  const at = p.positions, values = new Array<unknown[] | undefined>(at.length);
  for (let c = 0; c < at.length; c++) values[c] = at[c] < 0 ? undefined : columns[at[c]];
  if (rows === 1 && opts.reuse && (p.regression ? est.predictRow : est.predictProbaRow)) {
    const b = rowBuffers(p);
    out.X = b.X;
    const x = p.pre.transformRowByPosition(values, 0, b.X.data);
    if (p.regression) {
      b.value[0] = est.predictRow!(x);
      out.values = b.value;
      return out;
    }
    out.proba = est.predictProbaRow!(x, b.proba);
    out.label = decide(p, out.proba, 1, b.label);
    return out;
  }
  const X = p.pre.transformByPosition(values, rows);
  out.X = X;
  if (p.regression) {
    out.values = est.predict(X);
    return out;
  }
  if (!est.predictProba) throw new Error("classifier engine has no predictProba");
  out.proba = est.predictProba(X);
  out.label = decide(p, out.proba, rows, new Int32Array(rows));
  return out;
}

/** The predicted class index per row of rows x k probabilities, into `label`. */
function decide(p: Plan, P: Float64Array, rows: number, label: Int32Array): Int32Array {
  const k = p.k;
  if (k === 2) {
    const pos = p.pos, neg = 1 - pos, t = p.threshold;
    for (let i = 0; i < rows; i++) label[i] = P[2 * i + pos] >= t ? pos : neg;
  } else {
    for (let i = 0; i < rows; i++) {
      let best = 0;
      for (let c = 1; c < k; c++) if (P[i * k + c] > P[i * k + best]) best = c;
      label[i] = best;
    }
  }
  return label;
}

/** JSON text of a number as JSON.stringify writes it (a non-finite number is null). */
export function jsonNumber(x: number): string {
  return Number.isFinite(x) ? String(x) : "null";
}

/** JSON text of a validated value (a number, string, boolean or null) as JSON.stringify writes it. */
function jsonValue(v: unknown): string {
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "null";
  if (v === null || v === undefined) return "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  return JSON.stringify(v);
}

/**
 * The JSON pieces of a served model's answers, built once per loaded version:
 * the keys in the order JSON.stringify would write them (an object's
 * integer-like keys come first, ascending), each label's text.
 */
export class TableWriter {
  /** `{"model":..,"version":..,"request_id":"` */
  private readonly head: string;
  private readonly inputKeys: string[];
  private readonly inputOrder: number[];
  private readonly orderedNames: string[];
  private readonly labels: string[];
  private readonly probKeys: string[];
  private readonly probOrder: number[];
  private readonly logTail: string;
  /** the metrics keys (predictionKey) of each class, and of a regressor's predictions */
  private readonly classKeys: string[];
  private readonly valueKey: string;
  private readonly regression: boolean;
  private readonly name: string;
  private readonly version: string;

  private constructor(m: ServedModel) {
    const names = m.validator.columns.map((c) => c.name);
    this.head = '{"model":' + JSON.stringify(m.name) + ',"version":' + JSON.stringify(m.version) +
      ',"request_id":"';
    this.logTail = ',"model":' + JSON.stringify(m.name) + ',"version":' + JSON.stringify(m.version) +
      ',"inputs":';
    // the order an object built in signature order enumerates its keys in
    const order = (keys: string[]) => {
      const o: Record<string, number> = {};
      keys.forEach((k, i) => (o[k] = i));
      return Object.keys(o).map((k) => o[k]);
    };
    this.inputOrder = order(names);
    this.orderedNames = this.inputOrder.map((j) => names[j]);
    this.inputKeys = this.inputOrder.map((j, n) => (n ? "," : "{") + JSON.stringify(names[j]) + ":");
    const classes = (m.model as Partial<LoadedModel>).classes ?? [];
    this.name = m.name;
    this.version = m.version;
    this.classKeys = classes.map((c) => predictionKey(m.name, m.version, c));
    this.valueKey = predictionKey(m.name, m.version, "");
    this.regression = planOf(m).regression;
    this.labels = classes.map((c) => JSON.stringify(c));
    const keys = classes.map(String);
    this.probOrder = order(keys);
    this.probKeys = this.probOrder.map((c, n) => (n ? "," : "{") + JSON.stringify(keys[c]) + ":");
  }

  /**
   * `{"model":..,"version":..,"request_id":..,"predictions":[`: /predict's answer up to its first
   * prediction. A request id is 1-128 of `A-Za-z0-9._:-` or a UUID (http.ts requestIdFrom): JSON text as it is.
   */
  headOf(requestId: string): string {
    return this.head + requestId + '","predictions":[';
  }

  static of(m: ServedModel): TableWriter {
    let w = writers.get(m);
    if (!w) writers.set(m, w = new TableWriter(m));
    return w;
  }

  /**
   * JSON text of row i's validated record, as JSON.stringify writes the
   * validator's record: the record as received when its keys are exactly the
   * signature's, in the same order (the usual client; V8's JSON.stringify of it
   * takes half the time of building the text), else built from the columns.
   */
  inputs(t: ScoredTable, i: number): string {
    const r = t.raw?.[i];
    if (r && this.sameKeys(r as Record<string, unknown>)) return JSON.stringify(r);
    const cols = t.columns, keys = this.inputKeys, order = this.inputOrder;
    if (keys.length === 0) return "{}";
    let s = "";
    for (let n = 0; n < keys.length; n++) s += keys[n] + jsonValue(cols[order[n]][i]);
    return s + "}";
  }

  /**
   * whether a record's own keys, as enumerated, are the signature's names in enumeration order. for-in
   * lists inherited enumerable keys after all the own ones, so when the last key it lists is the
   * record's own, every one is: one own-property test, not one per key.
   */
  private sameKeys(r: Record<string, unknown>): boolean {
    const names = this.orderedNames;
    let j = 0;
    for (const k in r) {
      if (k !== names[j++]) return false;
    }
    return j === names.length && (j === 0 || Object.hasOwn(r, names[j - 1]));
  }

  /** JSON text of row i's prediction value */
  prediction(t: ScoredTable, i: number): string {
    if (t.label) return this.labels[t.label[i]] ?? "null";
    if (t.values) return jsonNumber(t.values[i]);
    return JSON.stringify(t.predictions![i].prediction ?? null);
  }

  /** JSON text of row i's probabilities (`null` for a regressor) */
  probabilities(t: ScoredTable, i: number): string {
    if (t.proba) {
      const P = t.proba, k = this.probKeys.length, at = i * k, order = this.probOrder;
      if (k === 0) return "{}";
      let s = "";
      for (let n = 0; n < k; n++) s += this.probKeys[n] + jsonNumber(P[at + order[n]]);
      return s + "}";
    }
    if (t.predictions) return JSON.stringify(t.predictions[i].probabilities ?? null);
    return "null";
  }

  /** JSON text of row i's Prediction object: {"prediction":..[,"probabilities":{..}]} */
  predictionObject(t: ScoredTable, i: number, probs: string): string {
    if (t.predictions) return JSON.stringify(t.predictions[i]);
    return t.proba
      ? '{"prediction":' + this.prediction(t, i) + ',"probabilities":' + probs + "}"
      : '{"prediction":' + this.prediction(t, i) + "}";
  }

  /** the prediction-log line of row i (predlog.ts logLine's text), from its pieces */
  logLine(head: string, t: ScoredTable, i: number, probs: string): string {
    return head + this.logTail + this.inputs(t, i) + ',"prediction":' + this.prediction(t, i) +
      ',"probabilities":' + (t.proba ? probs : this.probabilities(t, i)) + "}";
  }

  /** Counts `rows` predictions of this model given as class indexes (`label`; null: a regressor's values). */
  countLabels(rows: number, label: Int32Array | null, metrics: Metrics): void {
    if (!label) {
      if (rows) metrics.predictedAt(this.valueKey, rows);
      return;
    }
    const n = new Array<number>(this.classKeys.length).fill(0);
    for (let i = 0; i < rows; i++) n[label[i]]++;
    for (let c = 0; c < n.length; c++) if (n[c]) metrics.predictedAt(this.classKeys[c], n[c]);
  }

  /**
   * Counts the table's predictions in the metrics: a classifier's by class (one
   * update per class, not per row), a regressor's as one count per model
   * version (a series per predicted value would grow without end).
   */
  count(t: ScoredTable, metrics: Metrics): void {
    if (t.label) {
      if (t.rows === 1) return metrics.predictedAt(this.classKeys[t.label[0]], 1);
      this.countLabels(t.rows, t.label, metrics);
    } else if (t.values || this.regression) {
      this.countLabels(t.rows, null, metrics);
    } else {
      for (const p of t.predictions!) {
        metrics.predictedAt(predictionKey(this.name, this.version, p.prediction), 1);
      }
    }
  }
}

const writers = new WeakMap<ServedModel, TableWriter>();
