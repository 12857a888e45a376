/**
 * The features stage as library code. Normal mode reads prep's outputs
 * (processed train/validation customers, interim filtered_sales) and writes
 * data/features/customer_features.parquet with a `split` column, and the same
 * computed features as of every month-end (customer_snapshots.parquet, the
 * feature store's source for point-in-time training sets). Batch mode
 * (--batch DIR) cleans a later raw batch with prep's own code (no split; the
 * quality gate is reported, never fatal) and builds the same feature columns.
 */
import { join } from "node:path";
import pl from "nodejs-polars";
import { UserError } from "../core/errors.ts";
import type { Config } from "../config/schema.ts";
import { writeFrameAtomic } from "../core/atomic.ts";
import { readTable } from "../data/io.ts";
import { cleanSources, type GateResult, qualityGate, resolveAsOf } from "../data/prep.ts";
import { customersSchema, transactionsSchema } from "../data/schemas.ts";
import { SPLIT_COLUMN } from "../data/split.ts";
import { castToSchema } from "../data/validate.ts";
import { BATCH_FEATURES_FILE, FEATURES_FILE, prepOutputs } from "../config/paths.ts";
import { buildFeatures, MODEL_INPUT_COLUMNS } from "./customer.ts";
import { buildSnapshots, snapshotDates, SNAPSHOTS_FILE } from "./snapshots.ts";

export interface FeaturesOptions {
  /** a raw batch directory holding customers.* and transactions.* */
  batch?: string;
  /** the output file (default paths.features/customer_features.parquet) */
  output?: string;
}

export interface FeaturesResult {
  mode: "train" | "batch";
  output: string;
  as_of: string;
  rows: number;
  columns: string[];
  model_inputs: readonly string[];
  split?: { train: number; validation: number };
  /** normal mode: the features as of every month-end */
  snapshots?: { output: string; dates: string[]; rows: number };
  /** batch mode: what cleaning the batch rejected, and the gate's verdict (not enforced) */
  batch?: { source: string; rejected: Record<string, number>; gate: GateResult };
  seconds: number;
}

const SOURCE_EXTS = [".csv", ".json", ".ndjson", ".jsonl", ".parquet"];

/** The one file named `<stem>.<ext>` in `dir`, for a supported extension. */
function findSource(dir: string, stem: string): string {
  let entries: string[];
  try {
    entries = [...Deno.readDirSync(dir)].filter((e) => e.isFile).map((e) => e.name);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new UserError(`${dir}: batch directory not found`);
    throw new UserError(`${dir}: cannot read the batch directory (${(e as Error).message.split(":")[0]})`);
  }
  const hits = entries.filter((n) => SOURCE_EXTS.some((x) => n.toLowerCase() === stem + x)).sort();
  if (hits.length === 0) {
    throw new UserError(`${dir}: no ${stem} file (expected ${stem}.csv, .json, .ndjson or .parquet)`);
  }
  if (hits.length > 1) throw new UserError(`${dir}: several ${stem} files (${hits.join(", ")}); keep one`);
  return join(dir, hits[0]);
}

function noSales(asOf: string | null, where: string): string {
  if (asOf) return asOf;
  throw new UserError(`${where}: no valid transactions, so no snapshot date; set data.as_of in params.yaml`);
}

export function runFeatures(cfg: Config, opts: FeaturesOptions = {}, log: (m: string) => void = () => {}) {
  const t0 = performance.now();
  const { id_column: id, target } = cfg.data;
  let customers: pl.DataFrame, sales: pl.DataFrame, asOf: string;
  let batchInfo: FeaturesResult["batch"];
  const output = opts.output ??
    join(cfg.paths.features, opts.batch ? BATCH_FEATURES_FILE : FEATURES_FILE);
  if (opts.batch) {
    const clean = cleanSources({
      idColumn: id,
      target,
      customers: { path: findSource(opts.batch, "customers") },
      transactions: { path: findSource(opts.batch, "transactions") },
      targetOptional: true,
      log,
    });
    customers = clean.customers.kept;
    sales = clean.transactions.kept;
    asOf = noSales(resolveAsOf(sales, cfg.data.as_of), opts.batch);
    const gate = qualityGate(
      { customers: clean.customers.report, transactions: clean.transactions.report },
      cfg.quality,
    );
    for (const f of gate.failures) log(`features: warning (batch, not enforced): ${f}`);
    batchInfo = {
      source: opts.batch,
      rejected: {
        customers: clean.customers.report.rejected,
        transactions: clean.transactions.report.rejected,
      },
      gate,
    };
  } else {
    const cSchema = customersSchema(id, target);
    const tSchema = transactionsSchema(id);
    const prep = prepOutputs(cfg.paths);
    for (const f of [prep.train, prep.validation]) {
      try {
        Deno.statSync(f);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
        throw new UserError(
          `${f}: not found; run \`deno task prep\` first (a failed quality gate removes it: see ${prep.quality})`,
        );
      }
    }
    const read = (path: string) => readTable(path, { allStrings: true, required: [id] });
    let t1 = performance.now();
    const train = castToSchema(read(prep.train), cSchema);
    const validation = castToSchema(read(prep.validation), cSchema);
    customers = pl.concat([
      train.withColumns(pl.lit("train").alias(SPLIT_COLUMN)),
      validation.withColumns(pl.lit("validation").alias(SPLIT_COLUMN)),
    ]).sort(id);
    log(`features: read ${customers.height} customers (${((performance.now() - t1) / 1000).toFixed(2)} s)`);
    t1 = performance.now();
    const salesPath = prep.filtered_sales;
    sales = castToSchema(
      readTable(salesPath, { allStrings: true, required: [id, "date", "amount"] }).select(
        id,
        "date",
        "amount",
      ),
      tSchema,
    );
    log(`features: read ${sales.height} transactions (${((performance.now() - t1) / 1000).toFixed(2)} s)`);
    asOf = noSales(resolveAsOf(sales, cfg.data.as_of), salesPath);
  }
  const t2 = performance.now();
  const features = buildFeatures(customers, sales, { asOf, idColumn: id, target });
  log(
    `features: built ${features.height} x ${features.width} (${
      ((performance.now() - t2) / 1000).toFixed(2)
    } s)`,
  );
  writeFrameAtomic(features, output);
  let snapshots: FeaturesResult["snapshots"];
  if (!opts.batch) {
    const t3 = performance.now();
    const first = sales.select(pl.col("date").min().cast(pl.Utf8)).getColumn("date").toArray()[0];
    const dates = snapshotDates(String(first ?? asOf), asOf);
    const snap = buildSnapshots(customers, sales, dates, { idColumn: id });
    const snapOut = join(cfg.paths.features, SNAPSHOTS_FILE);
    writeFrameAtomic(snap, snapOut);
    snapshots = { output: snapOut, dates, rows: snap.height };
    log(
      `features: ${snap.height} snapshot rows at ${dates.length} month-ends (${
        ((performance.now() - t3) / 1000).toFixed(2)
      } s)`,
    );
  }
  const result: FeaturesResult = {
    mode: opts.batch ? "batch" : "train",
    output,
    as_of: asOf,
    rows: features.height,
    columns: features.columns,
    model_inputs: MODEL_INPUT_COLUMNS,
    seconds: (performance.now() - t0) / 1000,
  };
  if (batchInfo) result.batch = batchInfo;
  if (snapshots) result.snapshots = snapshots;
  if (!opts.batch) {
    const nValid = features.filter(pl.col(SPLIT_COLUMN).eq(pl.lit("validation"))).height;
    result.split = { train: features.height - nValid, validation: nValid };
  }
  return result;
}
