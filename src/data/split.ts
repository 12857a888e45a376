/**
 * A stratified, seeded train/validation split. Rows are ordered by the id
 * column first, so the assignment depends only on the ids, the labels and the
 * seed (not on the file's row order). Within each class a seeded random key is
 * ranked and the lowest round(n_class * fraction) rows go to validation.
 */
import pl from "nodejs-polars";
import { Rng } from "../core/random.ts";

export interface SplitOptions {
  idColumn: string;
  target: string;
  validationFraction: number;
  stratify: boolean;
  seed: number;
}

export const SPLIT_COLUMN = "split";

/** Returns `df` sorted by id with a `split` column ("train" | "validation"). */
export function stratifiedSplit(df: pl.DataFrame, opts: SplitOptions): pl.DataFrame {
  const sorted = df.sort(opts.idColumn);
  const rng = new Rng(opts.seed);
  const keys = new Float64Array(sorted.height);
  for (let i = 0; i < keys.length; i++) keys[i] = rng.next();
  const key = pl.col("__split_key");
  const rank = opts.stratify ? key.rank("ordinal").over(opts.target) : key.rank("ordinal");
  const size = opts.stratify
    ? pl.col(opts.idColumn).count().over(opts.target)
    : pl.col(opts.idColumn).count();
  const nValid = size.cast(pl.Float64).mul(opts.validationFraction).round(0);
  return sorted
    .withColumns(pl.Series("__split_key", keys))
    .withColumns(
      pl.when(rank.cast(pl.Float64).lessThanEquals(nValid)).then(pl.lit("validation")).otherwise(
        pl.lit("train"),
      )
        .alias(SPLIT_COLUMN),
    )
    .drop("__split_key");
}
