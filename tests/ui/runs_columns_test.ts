/** The runs table's columns when none are chosen. */
import { deepStrictEqual } from "node:assert/strict";
import { defaultColumns } from "../../src/ui/runs_pages.ts";

Deno.test("runs table: the default columns are each kind's headline metrics, not the binary ones only", () => {
  const multiclass = [
    "accuracy",
    "brier",
    "log_loss",
    "macro_f1",
    "macro_roc_auc",
    "weighted_f1",
    "train_seconds",
  ];
  deepStrictEqual(defaultColumns({}, multiclass), [
    "metrics.macro_roc_auc",
    "metrics.macro_f1",
    "metrics.accuracy",
  ]);
  deepStrictEqual(defaultColumns({}, ["mae", "r2", "rmse"]), ["metrics.rmse", "metrics.r2"]);
  const trials = ["cv_mean_roc_auc", "cv_std_roc_auc", "cv_fold_roc_auc"];
  deepStrictEqual(defaultColumns({}, trials), ["metrics.cv_mean_roc_auc"]);
  // what the filter or sort names comes first
  deepStrictEqual(defaultColumns({ sort: "metrics.brier" }, multiclass).slice(0, 2), [
    "metrics.brier",
    "metrics.macro_roc_auc",
  ]);
});
