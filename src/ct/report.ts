/**
 * The continuous-training report, reports/ct/<run>/report.md: Markdown made
 * for a pull-request comment, as CML writes one (`gh pr comment --body-file`).
 * Sections: the verdict, the metrics table (candidate, champion, delta), the
 * gate verdicts, the params diff, the data diff and the charts (PNG files
 * beside the report; a comment shows them once they are published with the
 * artifact, the report links them relatively). Numbers are printed with 4
 * decimals; report.json beside it holds them exactly.
 */
import { formatNumber, MISSING } from "../core/format.ts";
import { fmtDataset, fmtDelta } from "../tracking/diff.ts";
import type { CtResult } from "./types.ts";
import { mdCode, mdText } from "../report/markdown.ts";

const fmt = (v: number | null | undefined) => formatNumber(v ?? null, { digits: 4 });

/** A Markdown table cell: HTML's special characters as entities, pipes escaped, newlines flattened. */
function cell(v: unknown): string {
  return mdText(v ?? MISSING);
}

function table(headers: string[], rows: unknown[][], align?: ("l" | "r")[]): string {
  const sep = headers.map((_, i) => (align?.[i] === "r" ? "---:" : "---"));
  return [headers, sep, ...rows.map((r) => r.map(cell))].map((r) => `| ${r.join(" | ")} |`).join("\n");
}

const arrow = (
  c: string | null,
) => (c === "better" ? "▲ better" : c === "worse" ? "▼ worse" : c === "equal" ? "=" : "");

/** The whole report as Markdown. */
export function renderCtReport(r: CtResult): string {
  const cand = r.candidate.run_id.slice(0, 8);
  const champ = r.champion ? `champion v${r.champion.version}` : null;
  const out: string[] = [];
  out.push(
    `## Continuous training: ${mdCode(r.model_name)} candidate ${cand}${champ ? ` vs ${champ}` : ""}`,
    "",
  );
  // the verdict first: what a reviewer needs from the comment
  const gateLine = r.gates.passed
    ? r.registered
      ? `**Gates passed**: registered as version ${r.registered.version}, \`@challenger\` (${r.registered.uri}).`
      : `**Gates passed**, but not registered: ${r.registration_note ?? "the registry refused it"}.`
    : `**Gates failed** (${r.gates.reasons.length}): not registered.`;
  out.push(gateLine);
  if (!r.champion) {
    out.push(
      "",
      `**No champion**: the candidate is compared with nothing${
        r.champion_note ? ` (${r.champion_note})` : ""
      }; gates that compare with a champion are skipped.`,
    );
  } else {
    out.push(
      "",
      r.verdict.regression
        ? `**Regression**: the candidate is worse than ${champ} on the primary metric: ${r.verdict.message}.`
        : `Primary metric: ${r.verdict.message}.`,
      "",
      `Both models scored on the candidate's ${r.candidate.validation_rows} validation rows` +
        (r.champion.same_validation
          ? " (the same rows the champion was validated on)."
          : " (not the rows the champion was validated on: its registered metrics differ; see report.json)."),
    );
  }
  out.push("", `Pipeline: ${r.pipeline}.`, "");

  out.push("### Metrics", "");
  out.push(
    table(
      ["metric", `candidate ${cand}`, champ ?? "champion", "delta", ""],
      r.metrics.map((m) => [
        m.metric === r.verdict.primary.metric ? `**${m.metric}** (primary)` : m.metric,
        fmt(m.candidate),
        r.champion ? fmt(m.champion) : MISSING,
        fmtDelta(m.delta),
        arrow(m.change),
      ]),
      ["l", "r", "r", "r", "l"],
    ),
    "",
  );

  out.push(`### Gates (${r.gates_from})`, "");
  if (r.gates.checks.length === 0) out.push("No gates are configured for this model.", "");
  else {
    out.push(
      table(
        ["metric", "check", "candidate", "required", "result"],
        r.gates.checks.map((c) => [
          c.metric,
          c.kind,
          fmt(c.candidate),
          c.required === null ? MISSING : fmt(c.required),
          c.passed ? "✅ pass" : `❌ fail: ${c.message}`,
        ]),
        ["l", "l", "r", "r", "l"],
      ),
      "",
    );
  }

  out.push("### Params diff", "");
  if (!r.champion) out.push("No champion run to diff against.", "");
  else if (r.params.length === 0) out.push(`No param changed (${r.unchanged_params} the same).`, "");
  else {
    out.push(
      table(
        ["param", champ!, `candidate ${cand}`],
        r.params.map((p) => [p.key, p.a ?? MISSING, p.b ?? MISSING]),
      ),
      "",
      `${r.params.length} changed, ${r.unchanged_params} the same.`,
      "",
    );
  }

  out.push("### Data diff", "");
  if (r.datasets.length) {
    out.push(
      table(
        ["dataset", champ ?? "champion", `candidate ${cand}`, ""],
        r.datasets.map((d) => [d.name, fmtDataset(d.a), fmtDataset(d.b), d.same ? "same" : "changed"]),
      ),
      "",
    );
  }
  if (r.drift.measured) {
    const d = r.drift;
    out.push(
      `Drift between the training sets (champion's as the reference, the drift stage's tests): share ${
        d.share.toFixed(3)
      } of ${d.tested_columns} columns (dataset drift from ${d.threshold}: ${
        d.dataset_drift ? "**yes**" : "no"
      })` +
        (d.drifted_columns.length ? `; drifted: ${d.drifted_columns.map(mdCode).join(", ")}` : "") +
        `. Rows: ${d.reference_rows} -> ${d.current_rows}.`,
      "",
    );
  } else out.push(`Drift between the training sets: not measured (${r.drift.note}).`, "");

  if (r.charts.length) {
    out.push("### Charts", "");
    for (const c of r.charts) out.push(`![${c.title}](${c.file})`, "");
  }
  out.push(
    `<sub>deno task ct · candidate run ${r.candidate.run_id} · report.json has every number</sub>`,
    "",
  );
  return out.join("\n");
}
