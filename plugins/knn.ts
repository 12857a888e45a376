/**
 * An example engine plugin: k-nearest neighbours, for classification and
 * regression. Add it to a project with
 *
 *   model:
 *     algorithm: knn
 *     plugins: [./plugins/knn.ts]
 *     engine_params: { k: 15 }
 *
 * and train, tune, register, serve, batch predict and drift use it like a
 * built-in engine. Features are standardized with the training rows' means
 * and deviations; a missing value counts as the mean. A plugin module exports
 * `engine`, made with defineEngine.
 */
import { z } from "zod";
// (outside this repository: import from "@orchard/orchard/engines", the light plugin API)
import { defineEngine } from "../src/models/engines/registry.ts";
import type { Estimator, Matrix } from "../src/models/types.ts";

const KnnParams = z.strictObject({
  k: z.number().int().positive().default(15).describe("neighbours that vote"),
  weights: z.enum(["uniform", "distance"]).default("uniform").describe(
    "distance: closer neighbours count more",
  ),
});
type KnnSettings = z.infer<typeof KnnParams>;

interface KnnState {
  kind: "classifier" | "regressor";
  k: number;
  weights: "uniform" | "distance";
  rows: number;
  cols: number;
  nClasses: number;
  mean: number[];
  scale: number[];
  X: number[];
  y: number[];
}

class KNearestNeighbours implements Estimator {
  private state?: KnnState;
  constructor(readonly kind: "classifier" | "regressor", private readonly settings: KnnSettings) {}

  static fromState(state: KnnState): KNearestNeighbours {
    const m = new KNearestNeighbours(state.kind, { k: state.k, weights: state.weights });
    m.state = state;
    return m;
  }

  fit(X: Matrix, y: Float64Array): Promise<void> {
    const { rows, cols, data } = X;
    const mean = new Array(cols).fill(0);
    const scale = new Array(cols).fill(0);
    for (let j = 0; j < cols; j++) {
      let s = 0, n = 0;
      for (let i = 0; i < rows; i++) {
        const v = data[i * cols + j];
        if (!Number.isNaN(v)) (s += v), n++;
      }
      mean[j] = n ? s / n : 0;
      let ss = 0;
      for (let i = 0; i < rows; i++) {
        const v = data[i * cols + j];
        if (!Number.isNaN(v)) ss += (v - mean[j]) ** 2;
      }
      scale[j] = n > 1 && ss > 0 ? Math.sqrt(ss / n) : 1;
    }
    const standardized = new Array(rows * cols);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const v = data[i * cols + j];
        standardized[i * cols + j] = Number.isNaN(v) ? 0 : (v - mean[j]) / scale[j];
      }
    }
    this.state = {
      kind: this.kind,
      k: Math.min(this.settings.k, rows),
      weights: this.settings.weights,
      rows,
      cols,
      nClasses: this.kind === "classifier" ? Math.max(...y) + 1 : 0,
      mean,
      scale,
      X: standardized,
      y: [...y],
    };
    return Promise.resolve();
  }

  private neighbours(x: Float64Array, offset: number): { index: number; weight: number }[] {
    const s = this.state!;
    const best: { index: number; d: number }[] = [];
    for (let i = 0; i < s.rows; i++) {
      let d = 0;
      for (let j = 0; j < s.cols; j++) {
        const v = x[offset + j];
        const z = Number.isNaN(v) ? 0 : (v - s.mean[j]) / s.scale[j];
        d += (z - s.X[i * s.cols + j]) ** 2;
      }
      if (best.length < s.k || d < best[best.length - 1].d) {
        best.push({ index: i, d });
        best.sort((a, b) => a.d - b.d || a.index - b.index);
        if (best.length > s.k) best.pop();
      }
    }
    return best.map((b) => ({
      index: b.index,
      weight: s.weights === "distance" ? 1 / (Math.sqrt(b.d) + 1e-9) : 1,
    }));
  }

  predictProba(X: Matrix): Float64Array {
    const s = this.state!;
    const out = new Float64Array(X.rows * s.nClasses);
    for (let r = 0; r < X.rows; r++) {
      const near = this.neighbours(X.data, r * X.cols);
      const total = near.reduce((a, b) => a + b.weight, 0);
      for (const n of near) out[r * s.nClasses + s.y[n.index]] += n.weight / total;
    }
    return out;
  }

  predict(X: Matrix): Float64Array {
    const s = this.state!;
    const out = new Float64Array(X.rows);
    if (s.kind === "regressor") {
      for (let r = 0; r < X.rows; r++) {
        const near = this.neighbours(X.data, r * X.cols);
        const total = near.reduce((a, b) => a + b.weight, 0);
        out[r] = near.reduce((a, n) => a + n.weight * s.y[n.index], 0) / total;
      }
      return out;
    }
    const p = this.predictProba(X);
    for (let r = 0; r < X.rows; r++) {
      let best = 0;
      for (let c = 1; c < s.nClasses; c++) if (p[r * s.nClasses + c] > p[r * s.nClasses + best]) best = c;
      out[r] = best;
    }
    return out;
  }

  toBytes(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify({ format: "knn", version: 1, ...this.state }));
  }
}

export const engine = defineEngine({
  name: "knn",
  kinds: ["classifier", "regressor"],
  params: KnnParams,
  encoding: "onehot",
  create: (settings, kind) => new KNearestNeighbours(kind, settings),
  load(bytes) {
    const state = JSON.parse(new TextDecoder().decode(bytes));
    if (state.format !== "knn" || state.version !== 1) throw new Error("not a knn model (format 1)");
    return KNearestNeighbours.fromState(state as KnnState);
  },
});
