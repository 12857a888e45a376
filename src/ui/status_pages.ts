/**
 * The status (home) and monitoring pages. Status: per registered model its
 * champion and challenger, what a reachable service serves (req/s, p99,
 * errors, prediction-log health), the last drift verdict with its report,
 * whether a retrain is pending (dataset drift after the newest version was
 * registered), and each pipeline stage's last run and whether it is cached
 * or stale (pipeline_state.ts: from deno.json's declared inputs and outputs).
 * Monitoring: drift share and per-column drift scores over time, prediction
 * traffic per day per model, and links to every drift report.
 */
import { join } from "node:path";
import { prepOutputs } from "../config/paths.ts";
import { html, type Raw, raw } from "./html.ts";
import { cell, type UiContext, when } from "./context.ts";
import { readService, type ServiceState } from "./service.ts";
import { listReports, MAX_STRENGTH, predictionTraffic, readDriftRuns } from "./monitoring_data.ts";
import { timeChart } from "./charts.ts";
import { pipelineStages, type StageState, type StageStatus } from "./pipeline_state.ts";
import { driftedColumnsChart, type DriftHistoryPoint, driftShareChart } from "../report/history.ts";
import type { ReportEntry } from "./monitoring_data.ts";

/** An element id from a name (ids may not hold spaces). */
const id = (name: string) => name.replace(/[^A-Za-z0-9_-]/g, "_");

/** Per model, its drift runs from the reports index (the drift stage's records), oldest first. */
function historyByModel(reports: ReportEntry[]): Map<string, DriftHistoryPoint[]> {
  const out = new Map<string, DriftHistoryPoint[]>();
  for (const r of reports) {
    if (r.kind !== "drift" || r.share === undefined || !r.date || Number.isNaN(Date.parse(r.date))) continue;
    const key = r.model ?? "(no model)";
    const list = out.get(key) ?? [];
    list.push({
      at: r.date,
      drift_share: r.share,
      dataset_drift: r.drifted === true,
      drifted_columns: r.driftedColumns ?? [],
      ...(r.threshold !== undefined ? { threshold: r.threshold } : {}),
    });
    out.set(key, list);
  }
  for (const list of out.values()) list.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  return out;
}

function mtime(path: string): number | null {
  try {
    return Deno.statSync(path).mtime?.getTime() ?? null;
  } catch {
    return null;
  }
}

function serviceBlock(s: ServiceState | undefined, model: string): Raw {
  if (!s) return html`<p class="muted">No service given (start the UI with <code>--service URL</code>).</p>`;
  if (!s.reachable) return html`<p class="fail">Service ${s.url} unreachable: ${s.error ?? "no answer"}</p>`;
  const served = s.served.filter((x) => x.model === model);
  // the service's traffic and health are its served models': not this one's when it serves another
  if (!served.length) {
    const others = [...new Set(s.served.map((x) => x.model))].join(", ") || "no model";
    return html`<p class="muted">Not served by ${s.url} (it serves ${others}).</p>`;
  }
  return html`
    <table>
      <tbody>
        <tr>
          <th scope="row">Service</th>
          <td>${s.url} — ${s.ready
            ? html`<span class="pass">ready</span>`
            : html`<span class="fail">not ready</span>`}</td>
        </tr>
        <tr>
          <th scope="row">Version served</th>
          <td>${served.length ? served.map((x) => `v${x.version}`).join(", ") : "-"}</td>
        </tr>
        <tr>
          <th scope="row">Requests/s</th>
          <td class="num">${s.reqPerSec === null
            ? "-"
            : s.reqPerSec.toFixed(2)} <span class="muted">${s.rateBasis ?? ""}</span></td>
        </tr>
        <tr>
          <th scope="row">p99 latency</th>
          <td class="num">${s.p99Seconds === null ? "-" : `${(s.p99Seconds * 1000).toFixed(1)} ms`}</td>
        </tr>
        <tr>
          <th scope="row">Errors</th>
          <td class="num">${s.errors5xx} 5xx, ${s.errors4xx} 4xx of ${s.requests}</td>
        </tr>
        <tr>
          <th scope="row">Prediction log</th>
          <td>${s.log.failing || s.log.writeErrors || s.log.dropped
            ? html`<span class="fail">${s.log.failing} failing, ${s.log.writeErrors} write errors, ${s.log.dropped} dropped</span>`
            : html`<span class="pass">healthy</span>`} (${s.log.written} written, ${s.log
            .pending} pending)</td>
        </tr>
      </tbody>
    </table>
  `;
}

export async function statusPage(ctx: UiContext): Promise<Raw> {
  const models = await ctx.registry.listModels();
  const service = ctx.serviceUrl ? await readService(ctx.serviceUrl) : undefined;
  const drift = readDriftRuns(ctx.monitoringDir);
  const reports = listReports(ctx.reportsDir, "drift");
  const threshold = ctx.config.drift.drift_share;
  const cards = models.map((m) => {
    // each model's own last check (the summary names the model a run checked): another model's drift is not
    // this one's. A summary written before the column checked the default model (registry.model_name)
    const own = (r: (typeof drift)[number]) =>
      r.model === m.name || (r.model === undefined && m.name === ctx.config.registry.model_name);
    const lastDrift = drift.filter(own).at(-1);
    const driftFound = lastDrift ? lastDrift.share >= threshold : false;
    const champion = m.versions.find((v) => v.aliases.includes("champion"));
    const challenger = m.versions.find((v) => v.aliases.includes("challenger"));
    const lastReport = reports.find((r) => !r.model || r.model === m.name);
    return html`<section class="card" aria-labelledby="m-${id(m.name)}">
<h2 id="m-${id(m.name)}"><a href="/models/${encodeURIComponent(m.name)}">${m.name}</a></h2>
<table><tbody>
<tr><th scope="row">Champion</th><td>${
      champion
        ? html`
          <span class="badge champion">v${champion.version}</span> <a class="mono"
            href="/runs/${champion.runId}">${champion.runId.slice(0, 8)}</a> ${champion.stage}
        `
        : html`<span class="fail">none</span>`
    }</td></tr>
<tr><th scope="row">Challenger</th><td>${
      challenger
        ? html`<span class="badge challenger">v${challenger.version}</span> <a class="mono" href="/runs/${challenger.runId}">${
          challenger.runId.slice(0, 8)
        }</a>`
        : "none"
    }</td></tr>
<tr><th scope="row">Versions</th><td>${m.versions.length}</td></tr>
<tr><th scope="row">Last drift</th><td>${
      lastDrift
        ? html`${
          driftFound ? html`<span class="fail">drift</span>` : html`<span class="pass">no drift</span>`
        } — ${lastDrift.drifted}/${lastDrift.columns} columns (${
          (lastDrift.share * 100).toFixed(0)
        }%, threshold ${(threshold * 100).toFixed(0)}%) at ${when(Date.parse(lastDrift.runAt))}${
          lastReport
            ? html`
              — <a href="/reports/${encodeURIComponent(lastReport.file)}">report</a>
            `
            : ""
        }`
        : html`<span class="muted">no drift check yet</span>`
    }</td></tr>
<tr><th scope="row">Retrain</th><td>${retrainState(ctx, m, lastDrift, driftFound)}</td></tr>
</tbody></table>
<h3>Serving</h3>
${serviceBlock(service, m.name)}
</section>`;
  });
  return html`
    <h1>Status</h1>
    ${models.length
      ? html`<div class="cards">${cards}</div>`
      : html`<p class="muted">No model is registered yet (<code>deno task pipeline</code>).</p>`}
    ${await stagesBlock(ctx, drift.at(-1)?.runAt)}
  `;
}

const STATE_CLASS: Record<StageState, string> = {
  "up to date": "pass",
  stale: "fail",
  "never run": "fail",
  "not cached": "muted",
};

/** The pipeline:* stages of deno.json: last run and cached/stale state, and what that is based on. */
async function stagesBlock(ctx: UiContext, lastDriftAt: string | undefined): Promise<Raw> {
  const stages = pipelineStages(ctx.projectDir);
  if (stages.length === 0) {
    return html`
      <h2>Pipeline stages</h2>
      <p class="muted">No <code>pipeline:*</code> tasks in ${join(ctx.projectDir, "deno.json")}.</p>
    `;
  }
  // the stages deno.json cannot cache: their last run comes from what they record
  const pipelineRun = readText(join(ctx.config.paths.models, "pipeline_run.txt"));
  const registered = pipelineRun ? await registrationOf(ctx, pipelineRun) : undefined;
  const extra = (task: string): Raw | string => {
    if (task === "pipeline:register") {
      return registered
        ? html`${when(registered.created)}: ${registered.name} v${registered.version} (run ${
          pipelineRun!.slice(0, 8)
        })`
        : pipelineRun
        ? html`run ${pipelineRun.slice(0, 8)} of models/pipeline_run.txt is not registered`
        : "";
    }
    if (task === "pipeline:drift" && lastDriftAt) {
      return html`last drift check ${when(Date.parse(lastDriftAt))}`;
    }
    return "";
  };
  return html`
    <h2>Pipeline stages</h2>
    <table id="stages">
      <thead>
        <tr>
          <th scope="col">Stage</th>
          <th scope="col">State</th>
          <th scope="col">Last run</th>
          <th scope="col">Why</th>
        </tr>
      </thead>
      <tbody>${stages.map((s) =>
        html`
          <tr>
            <td class="mono">${s.task}</td>
            <td><span class="${STATE_CLASS[s.state]}">${s.state}</span></td>
            <td>${s.lastRun !== null ? when(s.lastRun) : extra(s.task) || "-"}</td>
            <td>${stageWhy(s)}${s.lastRun !== null && extra(s.task)
              ? html`
                — ${extra(s.task)}
              `
              : ""}</td>
          </tr>
        `
      )}</tbody>
    </table>
    <p class="muted">Based on file times: a stage is stale when one of the inputs its deno.json task declares
      (<code>files</code>) was modified after its oldest output, never run when an output is missing, and up to
      date otherwise. <code>deno task</code> itself decides by the inputs' content, so an input saved unchanged
      shows stale here but is skipped there. Stages without declared inputs and outputs run every time.</p>
  `;
}

function stageWhy(s: StageStatus): Raw | string {
  switch (s.state) {
    case "never run":
      return html`missing output${s.missingOutputs.length > 1 ? "s" : ""}: <span class="mono">${
        s.missingOutputs.join(", ")
      }</span>`;
    case "stale":
      return html`changed since: <span class="mono">${s.newerInputs.join(", ")}</span>${
        s.newerInputs.length >= 5 ? " ..." : ""
      }`;
    case "up to date":
      return `${s.inputs} input files older than its ${s.outputs.length} output${
        s.outputs.length > 1 ? "s" : ""
      }${s.missingInputs.length ? ` (declared but missing: ${s.missingInputs.join(", ")})` : ""}`;
    default:
      return "runs every time (no files/output declared)";
  }
}

function readText(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The registered version made from `runId`, if any. */
async function registrationOf(
  ctx: UiContext,
  runId: string,
): Promise<{ name: string; version: number; created: number } | undefined> {
  const row = await ctx.store.db.get<{ name: string; version: number; created: number }>(
    "SELECT name, version, created FROM model_versions WHERE run_id = ? ORDER BY created DESC LIMIT 1",
    [runId],
  );
  return row ? { name: row.name, version: Number(row.version), created: Number(row.created) } : undefined;
}

/**
 * Whether a retrain is pending for a model: the last drift check found
 * dataset drift after its newest version was registered. drift:schedule
 * retrains on such a check (train writes models/retrain_run.txt, then
 * register); a retrain run trained but not registered is named.
 */
function retrainState(
  ctx: UiContext,
  m: { versions: { created: number; runId: string }[] },
  lastDrift: { runAt: string } | undefined,
  driftFound: boolean,
): Raw {
  const newest = Math.max(...m.versions.map((v) => v.created));
  const driftAt = lastDrift ? Date.parse(lastDrift.runAt) : NaN;
  const retrainFile = join(ctx.config.paths.models, "retrain_run.txt");
  const retrainRun = readText(retrainFile);
  const retrainAt = mtime(retrainFile);
  const unregistered = retrainRun && !m.versions.some((v) => v.runId === retrainRun) &&
      retrainAt !== null && retrainAt > newest
    ? html`
      — retrain run <a class="mono" href="/runs/${retrainRun}">${retrainRun.slice(0, 8)}</a> trained ${when(
        retrainAt,
      )} but not registered
    `
    : "";
  if (lastDrift && driftFound && driftAt > newest) {
    return html`
      <span
        class="fail">pending</span> (dataset drift at ${when(
          driftAt,
        )}, after the newest version, registered ${when(newest)})${unregistered}
    `;
  }
  return html`not pending (${
    !lastDrift
      ? "no drift check yet"
      : !driftFound
      ? "the last drift check found no dataset drift"
      : `a version was registered after the drift at ${when(driftAt)}`
  })${unregistered}`;
}

export function monitoringPage(ctx: UiContext, page = 1): Raw {
  const drift = readDriftRuns(ctx.monitoringDir);
  const threshold = ctx.config.drift.drift_share;
  // one line per model: a share of one model's columns says nothing of another's
  const modelOf = (d: { model?: string }) => d.model || "(two tables)";
  const shareChart = drift.length
    ? raw(
      timeChart(
        "Dataset drift share (drifted columns / columns)",
        drift.map((d) => ({ t: new Date(d.runAt), value: d.share, series: modelOf(d) })),
        {
          threshold,
          yLabel: "share",
        },
      ),
    )
    : html`<p class="muted">No drift checks yet (<code>deno task drift</code>).</p>`;
  // per-column drift of the last check's model, over its last 120 checks: the 8 columns nearest to (or
  // furthest past) their thresholds, on one scale whatever the test (a p-value's "high" is no drift)
  const last = drift.at(-1);
  const recent = last ? drift.filter((d) => modelOf(d) === modelOf(last)).slice(-120) : [];
  const top = new Set(
    (last?.scores ?? []).filter((s) => s.strength !== null).sort((a, b) => b.strength! - a.strength!)
      .slice(0, 8).map((s) => s.column),
  );
  const columnChart = recent.length && top.size
    ? raw(
      timeChart(
        `Drift per column (${modelOf(last!)}): the ${top.size} strongest at the last check`,
        recent.flatMap((d) =>
          d.scores.filter((s) => s.strength !== null && top.has(s.column)).map((s) => ({
            t: new Date(d.runAt),
            value: s.strength as number,
            series: s.column,
          }))
        ),
        { yLabel: "strength", threshold: 1 },
      ) +
        `<p class="muted">Strength: a score relative to its threshold on one scale for every test (a distance over ` +
        `its threshold; a p-value as log p / log threshold), 1 at the threshold, above it drift, shown up to ${MAX_STRENGTH}.</p>`,
    )
    : "";
  const traffic = predictionTraffic(ctx.predictionsDir);
  const trafficChart = traffic.length
    ? raw(timeChart(
      "Predictions per day",
      traffic.map((t) => ({
        t: new Date(`${t.day}T00:00:00Z`),
        value: t.records,
        series: t.model || "(no model folder)",
      })),
      { bars: true, yLabel: "records" },
    ))
    : html`<p class="muted">No prediction log under ${ctx.predictionsDir} yet.</p>`;
  const reports = listReports(ctx.reportsDir, "drift");
  const perModel = [...historyByModel(reports)].slice(0, 20).map(([model, points]) => {
    const recent = points.slice(-365);
    return html`
      <section aria-labelledby="drift-${id(model)}">
        <h3 id="drift-${id(model)}">${model}</h3>
        <div class="grid">
          <figure>${raw(driftShareChart(recent))}</figure>
          <figure>${raw(driftedColumnsChart(recent.slice(-120), {}, 20))}</figure>
        </div>
      </section>
    `;
  });
  const per = 100;
  const pages = Math.max(1, Math.ceil(reports.length / per));
  const p = Math.min(Math.max(1, page), pages);
  return html`
            <h1>Monitoring</h1>
            <p
      class="muted">The drift summary (${ctx
        .monitoringDir}/drift_summary.csv) holds one row per column of every check, with the model it checked.</p>
            ${last
              ? html`<p>Last check ${when(Date.parse(last.runAt))}${
                last.model ? ` of ${last.model}` : ""
              }: ${last.drifted}/${last.columns} columns drifted (${(last.share * 100).toFixed(0)}%).</p>`
              : ""}
            <div class="grid">
      <figure>${shareChart}</figure>
      <figure>${columnChart}</figure>
    </div>
            ${last
              ? html`
                <h2>Last check, per column</h2>
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Column</th>
                      <th scope="col">Score</th>
                      <th scope="col">Drifted</th>
                    </tr>
                  </thead>
                  <tbody>${last.scores.map((s) =>
                    html`
                      <tr>
                        <td>${s.column}</td>
                        <td class="num">${cell(s.score)}</td>
                        <td class="${s.drifted ? "fail" : "pass"}">${s.drifted ? "yes" : "no"}</td>
                      </tr>
                    `
                  )}</tbody>
                </table>
              `
              : ""}
            ${qualitySection(prepOutputs(ctx.config.paths).quality)}
    ${perModel.length ? html`<h2>Drift per model (from the reports index)</h2>${perModel}` : ""}
        <h2>Prediction traffic</h2>
            <figure>${trafficChart}</figure>
            ${traffic.length
              ? html`
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Day</th>
                      <th scope="col">Model</th>
                      <th scope="col">Records</th>
                    </tr>
                  </thead>
                  <tbody>${traffic.slice(-60).reverse().map((t) =>
                    html`
                      <tr>
                        <td>${t.day}</td>
                        <td>${t.model || "-"}</td>
                        <td class="num">${t.records}</td>
                      </tr>
                    `
                  )}</tbody>
                </table>
              `
              : ""}
            <h2>Drift reports (${reports.length})</h2>
            ${reports.length
              ? html`<ul id="reports">${
                reports.slice((p - 1) * per, p * per).map((r) =>
                  html`<li><a href="/reports/${encodeURIComponent(r.file)}">${r.file}</a>${
                    r.model
                      ? html`
                        <span class="badge">${r.model}</span>
                      `
                      : ""
                  }${
                    r.drifted === undefined ? "" : r.drifted
                      ? html`
                        <span class="fail">drift</span>
                      `
                      : html`
                        <span class="pass">no drift</span>
                      `
                  }</li>`
                )
              }</ul>${
                pages > 1
                  ? html`<nav class="pages" aria-label="Report pages">${
                    Array.from({ length: pages }, (_, i) => i + 1).filter((i) =>
                      Math.abs(i - p) <= 3 || i === 1 || i === pages
                    ).map((i) =>
                      i === p
                        ? html`
                          <strong aria-current="page">${i}</strong>
                        `
                        : html`
                          <a href="/monitoring?page=${i}">${i}</a>
                        `
                    )
                  }</nav>`
                  : ""
              }`
              : html`<p class="muted">No drift reports in ${ctx.reportsDir} yet.</p>`}
  `;
}

/** The prep stage's data-quality gate (data/processed/quality.json), when prep has run. */
function qualitySection(path: string): Raw | "" {
  let q: {
    as_of?: string;
    sources?: Record<string, { rows_in?: number; kept?: number; rejected?: number }>;
    gate?: { passed?: boolean; failures?: string[]; max_rejected_share?: number; max_missing_share?: number };
  };
  try {
    q = JSON.parse(Deno.readTextFileSync(path));
  } catch {
    return "";
  }
  const sources = Object.entries(q.sources ?? {});
  return html`
    <h2>Data quality (prep)</h2>
    <p>Quality gate ${q.gate?.passed
      ? html`<span class="pass">passed</span>`
      : html`<span class="fail">failed</span>`} (rejected share at most ${cell(
        q.gate?.max_rejected_share,
      )}, missing share at most ${cell(q.gate?.max_missing_share)})${q.as_of
      ? `, data as of ${q.as_of}`
      : ""}.${(q.gate?.failures ?? []).length
      ? html`
        Failures: ${(q.gate?.failures ?? []).join("; ")}
      `
      : ""}</p>
    <table>
      <thead>
        <tr>
          <th scope="col">Source</th>
          <th scope="col">Rows in</th>
          <th scope="col">Kept</th>
          <th scope="col">Rejected</th>
        </tr>
      </thead>
      <tbody>${sources.map(([name, x]) =>
        html`
          <tr>
            <td>${name}</td>
            <td class="num">${cell(x.rows_in)}</td>
            <td class="num">${cell(x.kept)}</td>
            <td class="num">${cell(x.rejected)}</td>
          </tr>
        `
      )}</tbody>
    </table>
    <p
      class="muted">A drift check's own input checks (missing columns, types, new categories, ranges) are in its report.</p>
  `;
}
