/**
 * The customer features over time: the computed features of `buildFeatures`
 * (the same code the one-record `customerFeatures` mirrors, so there is one
 * definition) taken as of every month-end the transactions cover, one row per
 * (customer, snapshot date) for each customer signed up by then. Each
 * snapshot sees only transactions dated on or before it, so a point-in-time
 * join over this table (the feature store's `customer_activity` view) gives a
 * training row at a cut-off only what was known at the cut-off.
 */
import pl from "nodejs-polars";
import { buildFeatures, COMPUTED_COLUMNS, DAY_MS, epochDay } from "./customer.ts";

export const SNAPSHOTS_FILE = "customer_snapshots.parquet";
/** The snapshot table's event-timestamp column. */
export const SNAPSHOT_TIME = "as_of";

const isoDay = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);

/** Month-ends from the month of `first` through `asOf`, and `asOf` itself (YYYY-MM-DD, ascending). */
export function snapshotDates(first: string, asOf: string): string[] {
  const start = new Date(epochDay(first) * DAY_MS), end = epochDay(asOf);
  const out: string[] = [];
  for (let m = 0;; m++) {
    // day 0 of the next month: the month's last day
    const day = Math.floor(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + m + 1, 0) / DAY_MS);
    if (day >= end) break;
    out.push(isoDay(day));
  }
  out.push(isoDay(end));
  return out;
}

/**
 * One row per (customer, date) for each of `dates` at which the customer had
 * signed up: the id, `as_of` (a datetime, midnight UTC) and the
 * COMPUTED_COLUMNS as of that date.
 */
export function buildSnapshots(
  customers: pl.DataFrame,
  sales: pl.DataFrame,
  dates: string[],
  opts: { idColumn?: string } = {},
): pl.DataFrame {
  const id = opts.idColumn ?? "customer_id";
  const frames = dates.map((d) => {
    const signedUp = customers.filter(pl.col("signup_date").cast(pl.Int32).lessThanEquals(epochDay(d)));
    return buildFeatures(signedUp, sales, { asOf: d, idColumn: id })
      .select(
        pl.col(id),
        pl.lit(epochDay(d) * DAY_MS).cast(pl.Int64).cast(pl.Datetime("ms")).alias(SNAPSHOT_TIME),
        ...COMPUTED_COLUMNS.map((c) => pl.col(c)),
      );
  });
  return pl.concat(frames, { how: "vertical" });
}
