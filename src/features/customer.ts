/**
 * Per-customer features, two ways that must agree: `buildFeatures` for a whole
 * table (polars expressions, one collect, no row loops) and `customerFeatures`
 * for ONE customer and their transactions (plain JS, no DataFrame) for serving.
 *
 * Every date is a whole UTC day; windows are counted back from the snapshot
 * date `asOf` (inclusive): "last 3 months" = the 91 days ending at asOf, "the
 * 3 before" = the 91 days before those. Transactions after asOf are ignored.
 *
 * | feature | meaning |
 * | --- | --- |
 * | tenure_months | whole months (30.4375 days) from signup_date to asOf |
 * | recency_days | days from the last transaction to asOf; with none, from signup_date |
 * | frequency | number of transactions |
 * | monetary_total / monetary_avg | sum / mean of amounts (avg 0 with no transactions) |
 * | spend_last_3m / spend_prev_3m | amount in the last 91 days / the 91 days before |
 * | txn_last_3m / txn_prev_3m | transaction counts in the same windows |
 * | spend_change_3m | (last - prev) / (last + prev), in [-1, 1]; 0 when both are 0 |
 */
import pl from "nodejs-polars";

export const DAY_MS = 86_400_000;
export const WINDOW_DAYS = 91;
export const DAYS_PER_MONTH = 30.4375;

/** Customer attributes passed through to the features, in output order. */
export const CUSTOMER_COLUMNS = [
  "plan",
  "region",
  "contract",
  "payment_method",
  "monthly_charges",
  "support_calls",
] as const;

/** The computed features, in output order. */
export const COMPUTED_COLUMNS = [
  "tenure_months",
  "recency_days",
  "frequency",
  "monetary_total",
  "monetary_avg",
  "spend_last_3m",
  "spend_prev_3m",
  "txn_last_3m",
  "txn_prev_3m",
  "spend_change_3m",
] as const;

/** The model's input columns (everything but the id, the target and the split). */
export const MODEL_INPUT_COLUMNS: readonly string[] = [...CUSTOMER_COLUMNS, ...COMPUTED_COLUMNS];

export interface FeatureOptions {
  /** snapshot date YYYY-MM-DD */
  asOf: string;
  idColumn?: string;
  target?: string;
}

/** Days since 1970-01-01 of a YYYY-MM-DD date (or a Date). */
export function epochDay(date: string | Date): number {
  const ms = typeof date === "string" ? Date.parse(date.slice(0, 10) + "T00:00:00Z") : date.getTime();
  if (Number.isNaN(ms)) throw new RangeError(`not a date: ${date}`);
  return Math.floor(ms / DAY_MS);
}

/** The output column order for a table with these columns. */
function featureColumns(idColumn: string, target: string, has: (c: string) => boolean): string[] {
  return [
    idColumn,
    ...MODEL_INPUT_COLUMNS,
    ...(has(target) ? [target] : []),
    ...(has("split") ? ["split"] : []),
  ];
}

/**
 * Batch features: `customers` (id, signup_date as Date, the CUSTOMER_COLUMNS,
 * optionally target and split) joined with aggregates of `sales` (id, date as
 * Date, amount). One row per customer, customers' order kept.
 */
export function buildFeatures(
  customers: pl.DataFrame,
  sales: pl.DataFrame,
  opts: FeatureOptions,
): pl.DataFrame {
  const id = opts.idColumn ?? "customer_id";
  const target = opts.target ?? "churned";
  const asOf = epochDay(opts.asOf);
  const day = pl.col("date").cast(pl.Int32);
  const amount = pl.col("amount").cast(pl.Float64);
  const inLast = day.gt(asOf - WINDOW_DAYS);
  const inPrev = day.gt(asOf - 2 * WINDOW_DAYS).and(day.lessThanEquals(asOf - WINDOW_DAYS));
  const sumIf = (cond: pl.Expr) => pl.when(cond).then(amount).otherwise(pl.lit(0)).sum();
  const countIf = (cond: pl.Expr) => pl.when(cond).then(pl.lit(1)).otherwise(pl.lit(0)).sum();
  const aggregates = sales.lazy()
    .select(pl.col(id), pl.col("date"), pl.col("amount"))
    .filter(day.lessThanEquals(asOf))
    .groupBy(id)
    .agg(
      pl.len().cast(pl.Int32).alias("frequency"),
      amount.sum().alias("monetary_total"),
      day.max().alias("__last_day"),
      sumIf(inLast).alias("spend_last_3m"),
      sumIf(inPrev).alias("spend_prev_3m"),
      countIf(inLast).cast(pl.Int32).alias("txn_last_3m"),
      countIf(inPrev).cast(pl.Int32).alias("txn_prev_3m"),
    );
  const signup = pl.col("signup_date").cast(pl.Int32);
  const has = new Set(customers.columns);
  const zeroInt = ["frequency", "txn_last_3m", "txn_prev_3m"];
  const zeroFloat = ["monetary_total", "spend_last_3m", "spend_prev_3m"];
  const last = pl.col("spend_last_3m"), prev = pl.col("spend_prev_3m");
  return customers.lazy()
    .join(aggregates, { on: id, how: "left" })
    .withColumns(
      ...zeroInt.map((c) => pl.col(c).fillNull(0).cast(pl.Int32)),
      ...zeroFloat.map((c) => pl.col(c).fillNull(0).cast(pl.Float64)),
    )
    .withColumns(
      pl.lit(asOf).sub(signup).cast(pl.Float64).div(DAYS_PER_MONTH).floor().cast(pl.Int32).alias(
        "tenure_months",
      ),
      pl.lit(asOf).sub(pl.col("__last_day").fillNull(signup)).cast(pl.Int32).alias("recency_days"),
      pl.when(pl.col("frequency").gt(0))
        .then(pl.col("monetary_total").div(pl.col("frequency").cast(pl.Float64)))
        .otherwise(pl.lit(0)).cast(pl.Float64).alias("monetary_avg"),
      pl.when(last.add(prev).gt(0)).then(last.sub(prev).div(last.add(prev))).otherwise(pl.lit(0))
        .cast(pl.Float64).alias("spend_change_3m"),
    )
    .select(...featureColumns(id, target, (c) => has.has(c)).map((c) => pl.col(c)))
    .collectSync();
}

export interface TransactionRecord {
  /** YYYY-MM-DD (or a Date) */
  date: string | Date;
  amount: number;
}

export type FeatureRecord = Record<string, string | number | null>;

/**
 * One customer's features, with no DataFrame: the same definitions as
 * buildFeatures, for the serving path. `customer` holds the id, signup_date and
 * the CUSTOMER_COLUMNS (and the target, passed through when present).
 */
export function customerFeatures(
  customer: Record<string, unknown>,
  transactions: readonly TransactionRecord[],
  opts: FeatureOptions,
): FeatureRecord {
  const id = opts.idColumn ?? "customer_id";
  const target = opts.target ?? "churned";
  const asOf = epochDay(opts.asOf);
  let frequency = 0, total = 0, lastDay = -Infinity;
  let spendLast = 0, spendPrev = 0, txnLast = 0, txnPrev = 0;
  for (const t of transactions) {
    const d = epochDay(t.date);
    if (d > asOf) continue;
    frequency++;
    total += t.amount;
    if (d > lastDay) lastDay = d;
    if (d > asOf - WINDOW_DAYS) {
      spendLast += t.amount;
      txnLast++;
    } else if (d > asOf - 2 * WINDOW_DAYS) {
      spendPrev += t.amount;
      txnPrev++;
    }
  }
  const signupRaw = customer.signup_date;
  const signup = signupRaw === null || signupRaw === undefined ? null : epochDay(signupRaw as string | Date);
  const out: FeatureRecord = { [id]: (customer[id] ?? null) as string | null };
  for (const c of CUSTOMER_COLUMNS) out[c] = (customer[c] ?? null) as string | number | null;
  out.tenure_months = signup === null ? null : Math.floor((asOf - signup) / DAYS_PER_MONTH);
  out.recency_days = frequency > 0 ? asOf - lastDay : signup === null ? null : asOf - signup;
  out.frequency = frequency;
  out.monetary_total = total;
  out.monetary_avg = frequency > 0 ? total / frequency : 0;
  out.spend_last_3m = spendLast;
  out.spend_prev_3m = spendPrev;
  out.txn_last_3m = txnLast;
  out.txn_prev_3m = txnPrev;
  out.spend_change_3m = spendLast + spendPrev > 0 ? (spendLast - spendPrev) / (spendLast + spendPrev) : 0;
  if (target in customer) out[target] = customer[target] as number | null;
  return out;
}
