/**
 * The runs pages: experiments and the runs table (filter box with inline
 * errors, sort by any column, chosen columns, paging, nesting kept), the
 * compare view (params side by side with differences marked, metrics
 * charted, parallel coordinates) and one run's detail (params, metric
 * histories, tags, datasets, lineage, artifacts, its training report).
 */
import type { Key } from "../tracking/filter.ts";
import type { Run } from "../tracking/store.ts";
import { compareRuns, HEADLINE_METRICS } from "../tracking/format.ts";
import { html, type Raw, raw } from "./html.ts";
import { cell, duration, type UiContext, when } from "./context.ts";
import { availableKeys, keyText, queryRuns, type RunsQuery } from "./runs_query.ts";
import { metricBars, parallelChart, stepChart } from "./charts.ts";

const ATTRIBUTE_COLUMNS: { key: string; label: string }[] = [
  { key: "run_name", label: "Run" },
  { key: "status", label: "Status" },
  { key: "start_time", label: "Started" },
  { key: "duration", label: "Duration" },
];

function qs(params: Record<string, string | string[] | number | undefined>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === "") continue;
    for (const x of Array.isArray(v) ? v : [v]) u.append(k, String(x));
  }
  const s = u.toString();
  return s ? `?${s}` : "";
}

export function short(id: string): string {
  return id.slice(0, 8);
}

/** Query parameters of the runs page, as given. */
export interface RunsParams {
  experiment?: string;
  q?: string;
  sort?: string;
  cols?: string[];
  page?: number;
  size?: number;
}

/** Metrics shown when no columns were chosen: those the filter/sort name, then common ones present. */
export function defaultColumns(p: RunsParams, metrics: string[]): string[] {
  const named = [...`${p.q ?? ""} ${p.sort ?? ""}`.matchAll(/\b(metrics|params)\.([A-Za-z0-9_\-/:.]+)/g)].map(
    (m) => `${m[1]}.${m[2].replace(/\.+$/, "")}`,
  );
  // each kind's headline metrics (binary, multiclass, regression, a tuning trial's CV means), as `deno task runs`
  const common = HEADLINE_METRICS.filter((m) => metrics.includes(m)).map((m) => `metrics.${m}`);
  const rest = metrics.slice(0, 4).map((m) => `metrics.${m}`);
  return [...new Set([...named, ...common, ...(common.length ? [] : rest)])].slice(0, 8);
}

export async function runsPage(ctx: UiContext, p: RunsParams): Promise<Raw> {
  const experiments = await ctx.store.listExperiments();
  const keys = await availableKeys(ctx.store, p.experiment);
  const chosen = p.cols && p.cols.length ? p.cols : defaultColumns(p, keys.metrics);
  const query: RunsQuery = {
    experiment: p.experiment,
    filter: p.q,
    sort: p.sort,
    columns: chosen,
    page: p.page,
    pageSize: p.size,
  };
  const result = await queryRuns(ctx.store, query);
  const base = { experiment: p.experiment, q: p.q, cols: p.cols, size: p.size };
  const sortLink = (key: string) => {
    const current = result.order[0];
    const currentText = current ? keyText(current.key) : undefined;
    const desc = currentText === key ? !current!.descending : key !== "run_name";
    return `/runs${qs({ ...base, sort: `${key} ${desc ? "desc" : "asc"}` })}`;
  };
  const arrow = (key: string) => {
    const o = result.order[0];
    if (!o || keyText(o.key) !== key) return "";
    return o.descending ? " ▼" : " ▲";
  };
  const ariaSort = (key: string) => {
    const o = result.order[0];
    if (!o || keyText(o.key) !== key) return raw("");
    return raw(` aria-sort="${o.descending ? "descending" : "ascending"}"`);
  };
  const colHeader = (k: Key) => {
    const t = keyText(k);
    return html`
      <th scope="col" ${ariaSort(t)}><a href="${sortLink(t)}">${k.kind === "metrics" ? "" : k.kind + "."}${k
        .name}${arrow(t)}</a></th>
    `;
  };
  const value = (
    r: { metrics: Record<string, number>; params: Record<string, string>; tags: Record<string, string> },
    k: Key,
  ) => {
    const v = k.kind === "metrics"
      ? r.metrics[k.name]
      : k.kind === "params"
      ? r.params[k.name]
      : r.tags[k.name];
    return html`<td class="${k.kind === "metrics" ? "num" : ""}">${cell(v)}</td>`;
  };
  const more = (r: { runId: string; depth: number; hiddenChildren?: number }) =>
    r.hiddenChildren
      ? html`
        <tr class="child more">
          <td></td>
          <td class="name"
            colspan="${6 + result.columns.length}"><a href="/runs${qs({
              ...base,
              q: `parent_run_id = '${r.runId}'`,
              sort: p.sort,
            })}">${r.hiddenChildren} more child runs of ${short(r.runId)}</a></td>
        </tr>
      `
      : "";
  const rows = result.rows.map((r) =>
    html`<tr class="${[r.depth > 0 ? "child" : "", r.context ? "context" : ""].join(" ").trim()}">
<td>${
      r.context
        ? ""
        : html`<input type="checkbox" name="run" value="${r.runId}" aria-label="select run ${
          r.runName ?? short(r.runId)
        }">`
    }</td>
<td class="name"><a href="/runs/${r.runId}">${r.runName ?? short(r.runId)}</a>${
      r.context
        ? html`
          <span class="muted">(parent, not matching)</span>
        `
        : ""
    }</td>
<td class="mono">${short(r.runId)}</td><td>${r.status}</td><td>${when(r.startTime)}</td><td class="num">${
      duration(r.startTime, r.endTime)
    }</td>
${p.experiment ? "" : html`<td>${r.experiment}</td>`}
${result.columns.map((k) => value(r, k))}
</tr>`
  );
  // a parent's "N more" row goes after its last shown descendant
  const withMore: (Raw | "")[] = [];
  const open: typeof result.rows = [];
  result.rows.forEach((r, i) => {
    while (open.length && open[open.length - 1].depth >= r.depth) withMore.push(more(open.pop()!));
    withMore.push(rows[i]);
    if (r.hiddenChildren) open.push(r);
  });
  while (open.length) withMore.push(more(open.pop()!));
  const pageLinks = [];
  for (let i = Math.max(1, result.page - 3); i <= Math.min(result.pages, result.page + 3); i++) {
    pageLinks.push(
      i === result.page
        ? html`<span aria-current="page"><strong>${i}</strong></span>`
        : html`<a href="/runs${qs({ ...base, sort: p.sort, page: i })}">${i}</a>`,
    );
  }
  const chooser = (["metrics", "params", "tags"] as const).map((kind) =>
    keys[kind].map((name) => {
      const id = `col-${kind}-${name}`;
      const v = `${kind}.${name}`;
      return html`<div><input type="checkbox" name="cols" id="${id}" value="${v}"${
        raw(chosen.includes(v) ? " checked" : "")
      }> <label for="${id}">${v}</label></div>`;
    })
  );
  return html`
    <h1>Runs</h1>
    <nav aria-label="Experiments"><strong>Experiments:</strong>
    <a href="/runs"${raw(p.experiment ? "" : ' aria-current="page"')}>all</a>
    ${experiments.map((e) =>
      html`
        · <a href="/runs${qs({ experiment: e.name })}" ${raw(
          p.experiment === e.name ? ' aria-current="page"' : "",
        )}>${e.name}</a> <span class="muted">(${e.runs})</span>
      `
    )}</nav>
    <form method="get" action="/runs" role="search" aria-label="Filter runs">
    ${p.experiment ? html`<input type="hidden" name="experiment" value="${p.experiment}">` : ""}
    ${p.sort ? html`<input type="hidden" name="sort" value="${p.sort}">` : ""}
    <p><label for="q">Filter</label>
    <input class="query" type="text" id="q" name="q" value="${p.q ??
      ""}" placeholder="metrics.roc_auc > 0.8 and params.max_depth = 10" aria-describedby="q-help${result
        .error
      ? " q-error"
      : ""}"${raw(result.error ? ' aria-invalid="true"' : "")}>
    <button type="submit" class="primary">Apply</button></p>
    <p id="q-help" class="muted">Same grammar as <code>deno task runs --filter</code>: metrics.*, params.*, tags.*, attributes; = != &lt; &lt;= &gt; &gt;= LIKE ILIKE IN IS NULL; AND OR NOT ( ).</p>
    ${result.error ? html`<p id="q-error" class="error" role="alert">${result.error}</p>` : ""}
    <details><summary>Columns (${chosen
      .length} shown)</summary><fieldset><legend>Choose columns</legend><div class="colchooser">${chooser}</div></fieldset>
    <button type="submit">Show columns</button></details>
    </form>
    <form id="compare-form" method="get" action="/compare">
      <p>${result.matched} run${result.matched === 1 ? "" : "s"} match${result.matched === 1
        ? "es"
        : ""}${result.error ? " (filter not applied)" : ""}; page ${result.page} of ${result.pages}.
    <button type="submit">Compare selected</button> <span id="compare-count" class="muted" aria-live="polite"></span></p>
      <table id="runs">
        <thead>
          <tr><th scope="col"><input type="checkbox" id="select-all" aria-label="select all runs on this page"></th>
    ${ATTRIBUTE_COLUMNS.slice(0, 1).map((c) =>
      html`
        <th scope="col" ${ariaSort(c.key)}><a href="${sortLink(c.key)}">${c.label}${arrow(c.key)}</a></th>
      `
    )}<th scope="col">Id</th>${ATTRIBUTE_COLUMNS.slice(1).map((c) =>
      html`
        <th scope="col" ${ariaSort(c.key)}><a href="${sortLink(c.key)}">${c.label}${arrow(c.key)}</a></th>
      `
    )}
    ${p.experiment ? "" : html`
      <th scope="col" ${ariaSort("experiment")}><a href="${sortLink("experiment")}">Experiment${arrow(
        "experiment",
      )}</a></th>
    `}
    ${result.columns.map(colHeader)}</tr>
        </thead>
        <tbody>
    ${withMore}
        </tbody>
      </table>
    </form>
    <nav class="pages" aria-label="Pages">${result.page > 1
      ? html`<a href="/runs${qs({ ...base, sort: p.sort, page: result.page - 1 })}" rel="prev">← prev</a>`
      : ""}${pageLinks}${result.page < result.pages
      ? html`<a href="/runs${qs({ ...base, sort: p.sort, page: result.page + 1 })}" rel="next">next →</a>`
      : ""}</nav>
  `;
}

/** Compare runs: every field side by side, differences marked; metrics charted; parallel coordinates. */
export async function comparePage(ctx: UiContext, ids: string[], chosenMetric?: string): Promise<Raw> {
  const runs: Run[] = [];
  for (const id of ids.slice(0, 200)) runs.push(await ctx.store.getRun(await ctx.store.resolveRunId(id)));
  const rows = compareRuns(runs);
  const differing = rows.filter((r) => r.differs).length;
  const label = (r: Run) => r.runName ? `${r.runName} (${short(r.runId)})` : short(r.runId);
  const metricKeys = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort();
  const metric = chosenMetric && metricKeys.includes(chosenMetric)
    ? chosenMetric
    : (["roc_auc", "f1", "rmse", "accuracy"].find((m) => metricKeys.includes(m)) ?? metricKeys[0]);
  const numericParams = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort().filter((k) => {
    const vals = runs.map((r) => r.params[k]).filter((v) => v !== undefined);
    return vals.length > 0 && vals.every((v) => v.trim() !== "" && Number.isFinite(Number(v))) &&
      new Set(vals).size > 1;
  });
  const bars = metricKeys.slice(0, 24).map((m) =>
    raw(metricBars(m, runs.map((r) => ({ run: label(r), value: r.metrics[m] }))))
  );
  const histories = metricKeys.filter((m) => runs.some((r) => (r.metricHistory[m]?.length ?? 0) > 1)).slice(
    0,
    12,
  )
    .map((m) => raw(stepChart(m, Object.fromEntries(runs.map((r) => [label(r), r.metricHistory[m] ?? []])))));
  const parallel = metric && numericParams.length
    ? raw(parallelChart(
      runs.filter((r) => Number.isFinite(r.metrics[metric])).map((r) => ({
        run: label(r),
        metric: r.metrics[metric],
        params: Object.fromEntries(numericParams.map((k) => [k, Number(r.params[k])])),
      })),
      numericParams.slice(0, 12),
      metric,
    ))
    : html`<p class="muted">No numeric param differs between these runs.</p>`;
  return html`
    <h1>Compare ${runs.length} runs</h1>
    <p>${differing} field${differing === 1 ? "" : "s"} differ (rows marked <span class="badge">≠</span>).</p>
    <table id="compare">
      <thead>
        <tr><th scope="col">Field</th>${runs.map((r) =>
          html`<th scope="col" class="wrap"><a href="/runs/${r.runId}">${label(r)}</a></th>`
        )}</tr>
      </thead>
      <tbody>${rows.map((r) =>
        html`<tr class="${r.differs ? "differs" : ""}"><th scope="row">${
          r.differs ? html`<span class="badge" title="differs">≠</span>` : ""
        }${r.field}</th>${
          r.values.map((v) => html`<td class="${typeof v === "number" ? "num" : "wrap"}">${cell(v)}</td>`)
        }</tr>`
      )}</tbody>
    </table>
    <h2>Parallel coordinates</h2>
    <form method="get" action="/compare">${ids.map((id) =>
      html`<input type="hidden" name="run" value="${id}">`
    )}
    <label for="pc-metric">Metric</label> <select id="pc-metric" name="metric">${metricKeys.map((m) =>
      html`
        <option value="${m}" ${raw(m === metric ? " selected" : "")}>${m}</option>
      `
    )}</select> <button type="submit">Show</button></form>
    <figure>${parallel}</figure>
    <h2>Metrics</h2>
    <div class="grid">${bars.map((b) => html`<figure>${b}</figure>`)}</div>
    ${histories.length
      ? html`
        <h2>Metric histories</h2>
        <div class="grid">${histories.map((b) => html`<figure>${b}</figure>`)}</div>
      `
      : ""}
  `;
}

/** One run: everything the store holds about it, with charts and the training report. */
export async function runPage(ctx: UiContext, id: string): Promise<Raw> {
  const run = await ctx.store.getRun(await ctx.store.resolveRunId(id));
  const children = await ctx.store.db.all<{ run_id: string; run_name: string | null; status: string }>(
    "SELECT run_id, run_name, status FROM runs WHERE parent_run_id = ? ORDER BY start_time, seq",
    [run.runId],
  );
  const versions = (await ctx.store.db.all<{ name: string; version: number }>(
    "SELECT name, version FROM model_versions WHERE run_id = ? ORDER BY name, version",
    [run.runId],
  ).catch(() => [])) as { name: string; version: number }[];
  const lineage = readLineage(run.artifacts.model);
  const histories = Object.entries(run.metricHistory).filter(([, h]) => h.length > 1).slice(0, 30)
    .map(([m, h]) => raw(stepChart(m, { [m]: h })));
  const artifactRows = Object.entries(run.artifacts).map(([name, path]) => {
    const files = listFiles(path);
    return html`
      <tr>
        <th scope="row">${name}</th>
        <td class="mono">${path}</td>
        <td>${files === null
          ? html`<a href="/runs/${run.runId}/artifacts/${encodeURIComponent(name)}" download>download</a>`
          : files.length === 0
          ? html`<span class="muted">missing</span>`
          : files.map((f) =>
            html`
              <a href="/runs/${run.runId}/artifacts/${encodeURIComponent(name)}/${encodeURIComponent(
                f,
              )}" download>${f}</a>
            `
          )}</td>
      </tr>
    `;
  });
  const report = run.artifacts.report;
  return html`
    <h1>Run ${run.runName ?? short(run.runId)}</h1>
    <table>
      <tbody>
        <tr>
          <th scope="row">Run id</th>
          <td class="mono">${run.runId}</td>
        </tr>
        <tr>
          <th scope="row">Experiment</th>
          <td><a href="/runs?experiment=${encodeURIComponent(run.experiment)}">${run.experiment}</a></td>
        </tr>
        <tr>
          <th scope="row">Status</th>
          <td>${run.status}</td>
        </tr>
        <tr>
          <th scope="row">Started</th>
          <td>${when(run.startTime)}</td>
        </tr>
        <tr>
          <th scope="row">Duration</th>
          <td>${duration(run.startTime, run.endTime)}</td>
        </tr>
      </tbody>
    </table>
    <h2>Lineage</h2>
    <ul>
    <li>Parent: ${run.parentRunId
      ? html`<a href="/runs/${run.parentRunId}">${short(run.parentRunId)}</a>`
      : "none"}</li>
    <li>Children: ${children.length
      ? children.map((c) =>
        html`
          <a href="/runs/${c.run_id}">${c.run_name ?? short(c.run_id)}</a> (${c.status})
        `
      )
      : "none"}</li>
    <li>Registered as: ${versions.length
      ? versions.map((v) =>
        html`
          <a href="/models/${encodeURIComponent(v.name)}">${v.name} v${Number(v.version)}</a>
        `
      )
      : "not registered"}</li>
    ${lineage?.code_version
      ? html`<li>Code: commit <code>${String(lineage.code_version.commit ?? "-")}</code>${
        lineage.code_version.dirty ? " (dirty work tree)" : ""
      }</li>`
      : ""}
    </ul>
    <h2>Datasets</h2>
    ${run.datasets.length
      ? html`
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Path</th>
              <th scope="col">Rows</th>
              <th scope="col">sha256</th>
            </tr>
          </thead>
          <tbody>${run.datasets.map((d) =>
            html`
              <tr>
                <td>${d.name}</td>
                <td class="mono">${d.path}</td>
                <td class="num">${d.rows}</td>
                <td class="mono">${d.sha256}</td>
              </tr>
            `
          )}</tbody>
        </table>
      `
      : html`<p class="muted">No datasets logged.</p>`}
    <div class="grid">
      <section><h2>Params</h2>${kvTable(run.params, "Param")}</section>
      <section><h2>Metrics</h2>${kvTable(run.metrics, "Metric")}</section>
      <section><h2>Tags</h2>${kvTable(run.tags, "Tag")}</section>
    </div>
    ${histories.length
      ? html`
        <h2>Metric histories</h2>
        <div class="grid">${histories.map((c) => html`<figure>${c}</figure>`)}</div>
      `
      : ""}
    <h2>Artifacts</h2>
    ${artifactRows.length
      ? html`
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Path</th>
              <th scope="col">Download</th>
            </tr>
          </thead>
          <tbody>${artifactRows}</tbody>
        </table>
      `
      : html`<p class="muted">No artifacts.</p>`}
    <h2>Training report</h2>
    ${report && isFile(report)
      ? html`
        <iframe class="report" title="training report of run ${short(run.runId)}" src="/runs/${run
          .runId}/report"
          sandbox></iframe>
      `
      : html`<p class="muted">No training report for this run.</p>`}
  `;
}

function kvTable(rec: Record<string, unknown>, what: string): Raw {
  const entries = Object.entries(rec).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length === 0) return html`<p class="muted">None.</p>`;
  return html`
    <table>
      <thead>
        <tr>
          <th scope="col">${what}</th>
          <th scope="col">Value</th>
        </tr>
      </thead>
      <tbody>${entries.map(([k, v]) =>
        html`
          <tr>
            <th scope="row" class="wrap">${k}</th>
            <td class="${typeof v === "number" ? "num" : "wrap"}">${cell(v)}</td>
          </tr>
        `
      )}</tbody>
    </table>
  `;
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** The plain files of an artifact directory (null: the artifact is a file; [] missing). */
export function listFiles(path: string): string[] | null {
  try {
    const st = Deno.statSync(path);
    if (st.isFile) return null;
    return [...Deno.readDirSync(path)].filter((e) => e.isFile).map((e) => e.name).sort();
  } catch {
    return [];
  }
}

function readLineage(
  modelDir: string | undefined,
): { code_version?: { commit?: unknown; dirty?: unknown } } | null {
  if (!modelDir) return null;
  try {
    return JSON.parse(Deno.readTextFileSync(`${modelDir}/lineage.json`));
  } catch {
    return null;
  }
}
