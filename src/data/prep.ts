/**
 * The prep stage as library code: read the raw sources (format by extension),
 * validate and clean each against its schema, keep only transactions of kept
 * customers, split the customers (stratified, seeded), measure quality and
 * apply the quality gate. `cleanSources` is the shared core: the features
 * stage's --batch mode cleans a later raw batch with exactly this code.
 */
import { join } from "node:path";
import pl from "nodejs-polars";
import { UserError } from "../core/errors.ts";
import type { Config } from "../config/schema.ts";
import { writeFrameAtomic, writeJsonAtomic } from "../core/atomic.ts";
import { formatOf, type ReadSettings, readTable, type TableFormat } from "./io.ts";
import { customersSchema, type SourceSchema, transactionsSchema } from "./schemas.ts";
import { SPLIT_COLUMN, stratifiedSplit } from "./split.ts";
import { FEATURES_FILE, prepOutputs } from "../config/paths.ts";
import { type SourceReport, type ValidateResult, validateSource } from "./validate.ts";

export interface SourceRef {
  path: string;
  format?: TableFormat;
}

export interface CleanOptions {
  idColumn: string;
  target: string;
  customers: SourceRef;
  transactions: SourceRef;
  /** batch mode: the target column may be absent (a production batch without labels) */
  targetOptional?: boolean;
  /** how the files are read (params.yaml data.read: delimiter, quote, null tokens, encoding) */
  read?: ReadSettings;
  log?: (message: string) => void;
}

export interface CleanResult {
  customers: ValidateResult;
  transactions: ValidateResult;
  /** the schemas actually applied */
  schemas: { customers: SourceSchema; transactions: SourceSchema };
}

/** Reads a raw source; CSV cells all as text (validation casts them itself). */
export function readSource(ref: SourceRef, read?: ReadSettings): pl.DataFrame {
  const format = ref.format ?? formatOf(ref.path);
  const df = readTable(ref.path, { format, allStrings: format === "csv", read });
  // said of the file itself: a header without rows would otherwise surface as the other table's rejects
  if (df.height === 0) {
    throw new UserError(`${ref.path}: no rows${format === "csv" ? " (a header only)" : ""}`);
  }
  return df;
}

function elapsed(t0: number): string {
  return `${((performance.now() - t0) / 1000).toFixed(2)} s`;
}

/** Validates both sources; transactions of unknown or rejected customers are rejected too. */
export function cleanSources(opts: CleanOptions): CleanResult {
  const log = opts.log ?? (() => {});
  let t0 = performance.now();
  const customersRaw = readSource(opts.customers, opts.read);
  log(`prep: read ${opts.customers.path}: ${customersRaw.height} rows (${elapsed(t0)})`);
  t0 = performance.now();
  const transactionsRaw = readSource(opts.transactions, opts.read);
  log(`prep: read ${opts.transactions.path}: ${transactionsRaw.height} rows (${elapsed(t0)})`);

  const cSchema = customersSchema(opts.idColumn, opts.target);
  if (opts.targetOptional && !customersRaw.columns.includes(opts.target)) {
    cSchema.columns = cSchema.columns.filter((c) => c.name !== opts.target);
  }
  t0 = performance.now();
  const customers = validateSource(customersRaw, cSchema, { path: opts.customers.path });
  log(
    `prep: validated customers: ${customers.kept.height} kept, ${customers.rejected.height} rejected (${
      elapsed(t0)
    })`,
  );

  const allIds = customersRaw.columns.includes(opts.idColumn)
    ? customersRaw.getColumn(opts.idColumn).cast(pl.Utf8).str.strip().unique()
    : pl.Series(opts.idColumn, [] as string[]);
  const keptIds = customers.kept.getColumn(opts.idColumn);
  const id = pl.col(opts.idColumn);
  const tSchema = transactionsSchema(opts.idColumn);
  t0 = performance.now();
  const transactions = validateSource(transactionsRaw, tSchema, {
    path: opts.transactions.path,
    extra: [
      { fails: id.isIn(pl.lit(allIds)).not(), reason: `unknown ${opts.idColumn}` },
      { fails: id.isIn(pl.lit(keptIds)).not(), reason: "customer rejected" },
    ],
  });
  log(
    `prep: validated transactions: ${transactions.kept.height} kept, ${transactions.rejected.height} rejected (${
      elapsed(t0)
    })`,
  );
  return { customers, transactions, schemas: { customers: cSchema, transactions: tSchema } };
}

export interface GateResult {
  passed: boolean;
  max_rejected_share: number;
  max_missing_share: number;
  failures: string[];
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

/** The quality gate: rejected share and each column's missing share after cleaning. */
export function qualityGate(
  sources: Record<string, SourceReport>,
  thresholds: { max_rejected_share: number; max_missing_share: number },
): GateResult {
  const failures: string[] = [];
  for (const [name, r] of Object.entries(sources)) {
    const share = r.rows_in ? r.rejected / r.rows_in : 0;
    if (share > thresholds.max_rejected_share) {
      failures.push(
        `${name}: ${
          pct(share)
        } of rows rejected (${r.rejected}/${r.rows_in}), above quality.max_rejected_share ${
          pct(thresholds.max_rejected_share)
        }`,
      );
    }
    for (const [col, miss] of Object.entries(r.missing_share)) {
      if (miss > thresholds.max_missing_share) {
        failures.push(
          `${name}.${col}: ${pct(miss)} missing after cleaning, above quality.max_missing_share ${
            pct(thresholds.max_missing_share)
          }`,
        );
      }
    }
  }
  return { passed: failures.length === 0, ...thresholds, failures };
}

/** The snapshot date: config data.as_of, else the latest kept transaction date (YYYY-MM-DD). */
export function resolveAsOf(transactions: pl.DataFrame, configured?: string): string | null {
  if (configured) return configured;
  if (transactions.height === 0) return null;
  const max = transactions.select(pl.col("date").max().cast(pl.Utf8)).getColumn("date").toArray()[0];
  return max === null || max === undefined ? null : String(max);
}

export interface QualityReport {
  as_of: string | null;
  sources: { customers: SourceReport; transactions: SourceReport };
  split: {
    train: number;
    validation: number;
    validation_fraction: number;
    stratify: boolean;
    seed: number;
    positive_rate: { train: number | null; validation: number | null };
  } | null;
  gate: GateResult;
}

export interface PrepResult {
  quality: QualityReport;
  outputs: Record<string, string>;
  seconds: number;
}

/** Removes the files that exist; returns the ones it removed. */
function removeFiles(paths: string[]): string[] {
  const removed: string[] = [];
  for (const path of paths) {
    try {
      Deno.removeSync(path);
      removed.push(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return removed;
}

export interface PrepPaths {
  interim: string;
  processed: string;
}

/** The whole prep stage: read, validate, write interim + processed outputs, gate. */
export function runPrep(cfg: Config, log: (m: string) => void = () => {}): PrepResult {
  const t0 = performance.now();
  const { id_column: idColumn, target } = cfg.data;
  const clean = cleanSources({
    idColumn,
    target,
    customers: cfg.data.sources.customers,
    transactions: cfg.data.sources.transactions,
    read: cfg.data.read,
    log,
  });
  const outputs: Record<string, string> = prepOutputs(cfg.paths);
  const sources = { customers: clean.customers.report, transactions: clean.transactions.report };
  const gate = qualityGate(sources, cfg.quality);
  const quality: QualityReport = {
    as_of: resolveAsOf(clean.transactions.kept, cfg.data.as_of),
    sources,
    split: null,
    gate,
  };
  let t1 = performance.now();
  writeFrameAtomic(clean.customers.rejected, outputs.rejected_customers);
  writeFrameAtomic(clean.transactions.rejected, outputs.rejected_transactions);
  if (!gate.passed) {
    writeJsonAtomic(outputs.quality, quality);
    // The previous run's split and everything built from it no longer match the raw data:
    // remove them, so features and train fail loudly instead of using them silently.
    const stale = removeFiles([
      outputs.cleaned_customers,
      outputs.filtered_sales,
      outputs.train,
      outputs.validation,
      join(cfg.paths.features, FEATURES_FILE),
    ]);
    throw new UserError(
      `quality gate failed (${gate.failures.length} problem${gate.failures.length > 1 ? "s" : ""}): ${
        gate.failures.join("; ")
      } (see ${outputs.quality})${stale.length ? `; removed stale outputs ${stale.join(", ")}` : ""}`,
    );
  }
  const split = stratifiedSplit(clean.customers.kept, {
    idColumn,
    target,
    validationFraction: cfg.split.validation_fraction,
    stratify: cfg.split.stratify,
    seed: cfg.split.seed,
  });
  const train = split.filter(pl.col(SPLIT_COLUMN).eq(pl.lit("train"))).drop(SPLIT_COLUMN);
  const validation = split.filter(pl.col(SPLIT_COLUMN).eq(pl.lit("validation"))).drop(SPLIT_COLUMN);
  const rate = (df: pl.DataFrame) => df.height ? Number(df.getColumn(target).cast(pl.Float64).mean()) : null;
  quality.split = {
    train: train.height,
    validation: validation.height,
    validation_fraction: cfg.split.validation_fraction,
    stratify: cfg.split.stratify,
    seed: cfg.split.seed,
    positive_rate: { train: rate(train), validation: rate(validation) },
  };
  writeFrameAtomic(split.drop(SPLIT_COLUMN), outputs.cleaned_customers);
  writeFrameAtomic(clean.transactions.kept, outputs.filtered_sales);
  writeFrameAtomic(train, outputs.train);
  writeFrameAtomic(validation, outputs.validation);
  writeJsonAtomic(outputs.quality, quality);
  log(`prep: wrote ${Object.keys(outputs).length} files (${elapsed(t1)})`);
  t1 = performance.now();
  return { quality, outputs, seconds: (performance.now() - t0) / 1000 };
}
