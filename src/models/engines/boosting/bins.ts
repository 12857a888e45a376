/**
 * The boosting engine's view of the binned training data: the forest's
 * quantile bins for numeric columns (so split thresholds land where
 * scikit-learn puts them), and for categorical columns one bin per code
 * (codes from `maxBins - 1` up share the last, "rare" bin; negative codes and
 * NaN are missing).
 */
import { UserError } from "../../../core/errors.ts";
import type { Matrix } from "../../types.ts";
import { binMatrix, NAN_BIN } from "../forest/binning.ts";

export interface BoostBins {
  n: number;
  p: number;
  /** row-major codes (SharedArrayBuffer-backed when available) */
  codes: Uint8Array;
  /** value bins per feature (0: no present value) */
  nBins: Int32Array;
  isCat: Uint8Array;
  /** categorical: the rare bin, or -1 when every code has its own */
  rareBin: Int32Array;
  /** numeric features' bin value ranges (the forest's), feature f's at binStart[f].. */
  binLo: Float64Array;
  binHi: Float64Array;
  binStart: Int32Array;
}

export function boostBins(X: Matrix, maxBins: number, categorical?: Uint8Array): BoostBins {
  const b = binMatrix(X, maxBins);
  const { n, p, codes } = b;
  const nBins = Int32Array.from(b.nBins);
  const isCat = new Uint8Array(p);
  const rareBin = new Int32Array(p).fill(-1);
  if (categorical) {
    const rare = maxBins - 1;
    for (let f = 0; f < p; f++) {
      if (!categorical[f]) continue;
      isCat[f] = 1;
      let top = -1;
      for (let i = 0, o = f; i < n; i++, o += p) {
        const v = X.data[o];
        if (v !== v || v < 0) {
          codes[o] = NAN_BIN;
          continue;
        }
        if (!Number.isInteger(v)) {
          throw new UserError(
            `gradient boosting: column ${f} is categorical but row ${i} holds ${v} (codes must be integers)`,
          );
        }
        codes[o] = v < rare ? v : rare;
        if (v > top) top = v;
      }
      nBins[f] = top < 0 ? 0 : Math.min(top, rare) + 1;
      if (top >= rare) rareBin[f] = rare;
    }
  }
  return {
    n,
    p,
    codes,
    nBins,
    isCat,
    rareBin,
    binLo: b.binLo,
    binHi: b.binHi,
    binStart: b.binStart,
  };
}
