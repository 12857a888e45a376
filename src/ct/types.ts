/**
 * What one continuous-training job found (the `ct` task's --json output and
 * the data its report is rendered from), apart from the job so the report
 * and the job do not import each other.
 */
import type { GateReport } from "../registry/gates.ts";
import type { TaskKind } from "../registry/settings.ts";
import type { DatasetChange, ParamChange } from "../tracking/diff.ts";
import type { MetricRow, Verdict } from "./compare.ts";
import type { TrainingSetDrift } from "./data.ts";
import type { ChartFile } from "./charts.ts";

export interface CtChampion {
  version: number;
  run_id: string;
  /** models:/<name>/<version> */
  uri: string;
  /** its metrics on the candidate's validation rows (what the gates and the table compare) */
  metrics: Record<string, number>;
  /** its metrics as registered (measured on its own validation rows when it was trained) */
  registered_metrics: Record<string, number>;
  /** true when its own validation rows are the candidate's (same sha256 and rows) */
  same_validation: boolean;
}

export interface CtResult {
  model_name: string;
  kind: TaskKind;
  /** how the pipeline step went: "ran", or why it was skipped */
  pipeline: string;
  candidate: { run_id: string; metrics: Record<string, number>; validation_rows: number };
  /** null: no champion to compare with (`champion_note` says why) */
  champion: CtChampion | null;
  champion_note?: string;
  metrics: MetricRow[];
  verdict: Verdict;
  gates: GateReport;
  /** the gates applied and where they came from (a config key or the kind's defaults) */
  gates_from: string;
  /** set when the gates passed and the candidate was registered as @challenger */
  registered: { version: number; aliases: string[]; uri: string } | null;
  /** why a candidate that passed the gates was not registered (e.g. its input columns changed) */
  registration_note?: string;
  params: ParamChange[];
  unchanged_params: number;
  datasets: DatasetChange[];
  drift: TrainingSetDrift;
  /** reports/ct/<run>/report.md, with the charts beside it */
  report: string;
  charts: ChartFile[];
}
