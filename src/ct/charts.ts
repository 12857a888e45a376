/**
 * The report's PNG charts, candidate beside champion, by task kind:
 * - binary: confusion matrices side by side; ROC curves overlaid;
 * - multiclass: confusion matrices side by side; per-class F1 and one-vs-rest
 *   ROC AUC as grouped bars;
 * - regression: predicted vs actual overlaid, beside the residual histograms.
 * Charts are the Plot SVGs of src/report, rasterised there (png.ts).
 */
import { join } from "node:path";
import { atomically } from "../core/atomic.ts";
import type { Evaluation } from "../models/evaluate.ts";
import type { TaskKind } from "../registry/settings.ts";
import { confusionChart } from "../report/charts.ts";
import {
  perClassChart,
  predictedActualOverlayChart,
  residualOverlayChart,
  rocOverlayChart,
  SERIES_COLORS,
  sideBySide,
} from "../report/compare_charts.ts";
import { svgToPng } from "../report/png.ts";

/** One model's evaluation on the shared validation rows, under the name the report gives it. */
export interface Scored {
  name: string;
  evaluation: Evaluation;
  classes?: (string | number | boolean)[];
  threshold?: number;
  auc?: number;
}

export interface ChartFile {
  /** file name, beside report.md */
  file: string;
  title: string;
}

/** The charts of a kind as SVG strings, keyed by file name. */
export function comparisonCharts(
  kind: TaskKind,
  models: Scored[],
): { file: string; title: string; svg: string }[] {
  const out: { file: string; title: string; svg: string }[] = [];
  if (kind === "regression") {
    const series = models.filter((m) => m.evaluation.residuals).map((m) => ({
      name: m.name,
      data: m.evaluation.residuals!,
    }));
    if (series.length) {
      out.push({
        file: "residuals.png",
        title: "Predicted vs actual and residuals",
        svg: sideBySide([
          { title: "Predicted vs actual", chart: predictedActualOverlayChart(series) },
          { title: "Residuals", chart: residualOverlayChart(series) },
        ], { heading: "Validation rows", key: { names: series.map((s) => s.name) } }),
      });
    }
    return out;
  }
  const withConfusion = models.filter((m) => m.evaluation.confusion && m.classes);
  if (withConfusion.length) {
    out.push({
      file: "confusion.png",
      title: "Confusion matrices",
      svg: sideBySide(
        withConfusion.map((m) => ({
          title: m.threshold === undefined ? m.name : `${m.name} (threshold ${m.threshold})`,
          chart: confusionChart(m.evaluation.confusion!, m.classes!.map(String)),
        })),
        { heading: "Confusion matrices (rows: actual, columns: predicted)" },
      ),
    });
  }
  if (kind === "binary") {
    const curves = models.filter((m) => m.evaluation.roc).map((m) => ({
      name: m.name,
      data: { ...m.evaluation.roc!, auc: m.auc },
    }));
    if (curves.length) {
      out.push({
        file: "roc.png",
        title: "ROC curves",
        svg: sideBySide([{ title: "ROC curves", chart: rocOverlayChart(curves) }]),
      });
    }
  } else {
    const per = models.filter((m) => m.evaluation.perClass);
    if (per.length) {
      const series = (pick: (c: NonNullable<Evaluation["perClass"]>[number]) => number) =>
        per.map((m) => ({
          name: m.name,
          data: m.evaluation.perClass!.map((c) => ({ class: String(c.class), value: pick(c) })),
        }));
      out.push({
        file: "per_class.png",
        title: "Per-class F1 and ROC AUC",
        svg: sideBySide([
          { title: "F1 per class", chart: perClassChart(series((c) => c.f1), { label: "F1" }) },
          {
            title: "ROC AUC per class (one-vs-rest)",
            chart: perClassChart(series((c) => c.roc_auc), { label: "ROC AUC" }),
          },
        ], { key: { names: per.map((m) => m.name), colors: per.map((_, i) => SERIES_COLORS[i]) } }),
      });
    }
  }
  return out;
}

/** Writes the charts as PNG files into `dir`; returns what was written. */
export async function writeComparisonCharts(
  dir: string,
  kind: TaskKind,
  models: Scored[],
): Promise<ChartFile[]> {
  const files: ChartFile[] = [];
  for (const c of comparisonCharts(kind, models)) {
    const { png } = await svgToPng(c.svg);
    atomically(join(dir, c.file), (tmp) => Deno.writeFileSync(tmp, png));
    files.push({ file: c.file, title: c.title });
  }
  return files;
}
