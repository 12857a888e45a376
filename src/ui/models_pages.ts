/**
 * The models pages: each registered model's versions with aliases, stages,
 * gate results and the evidence they were judged on; the alias history as a
 * timeline (every move, with its reason, rollbacks marked); two versions
 * compared; and the actions (set or move an alias, promote to a stage,
 * archive, roll back), shown only to a logged-in admin and carried out by the
 * `models` command's own code, so the registry records them as it records
 * the CLI's.
 */
import type { ModelVersion } from "../registry/registry.ts";
import { STAGES } from "../registry/types.ts";
import { keyMetrics } from "../registry/format.ts";
import { html, type Raw, raw, type Viewer } from "./html.ts";
import { cell, type UiContext, when } from "./context.ts";
import { short } from "./runs_pages.ts";

export async function modelsIndex(ctx: UiContext): Promise<Raw> {
  const models = await ctx.registry.listModels();
  if (models.length === 0) {
    return html`
      <h1>Models</h1>
      <p class="muted">No model is registered yet (<code>deno task register</code>).</p>
    `;
  }
  return html`
    <h1>Models</h1>
    <table>
      <thead>
        <tr>
          <th scope="col">Model</th>
          <th scope="col">Versions</th>
          <th scope="col">Aliases</th>
          <th scope="col">Production</th>
          <th scope="col">Created</th>
        </tr>
      </thead>
      <tbody>${models.map((m) =>
        html`
          <tr>
            <td><a href="/models/${encodeURIComponent(m.name)}">${m.name}</a></td>
            <td class="num">${m.versions.length}</td>
            <td>${m.versions.flatMap((v) =>
              v.aliases.map((a) => html`<span class="badge ${a}">@${a} v${v.version}</span>`)
            )}</td>
            <td>${m.versions.filter((v) => v.stage === "Production").map((v) => `v${v.version}`).join(", ") ||
              "-"}</td>
            <td>${when(m.created)}</td>
          </tr>
        `
      )}</tbody>
    </table>
  `;
}

function gateCell(v: ModelVersion): Raw {
  const g = v.gates;
  if (!g) return html`<span class="muted">not checked</span>`;
  return html`
    <details>
      <summary class="${g.passed ? "pass" : "fail"}">${g.passed
        ? "passed"
        : g.forced
        ? "FORCED"
        : "failed"} (${g.target})</summary>
      <p class="muted">checked ${when(g.time)}${g.baselineVersion !== null
        ? `, against v${g.baselineVersion}`
        : ", no baseline"}${g.reason ? html`; reason: ${g.reason}` : ""}</p>
      <table>
        <thead>
          <tr>
            <th scope="col">Metric</th>
            <th scope="col">Check</th>
            <th scope="col">Candidate</th>
            <th scope="col">Baseline</th>
            <th scope="col">Required</th>
            <th scope="col">Result</th>
          </tr>
        </thead>
        <tbody>${g.checks.map((c) =>
          html`
            <tr>
              <td>${c.metric}</td>
              <td>${c.kind}</td>
              <td class="num">${cell(c.candidate)}</td>
              <td class="num">${cell(c.baseline)}</td>
              <td class="num">${cell(c.required)}</td>
              <td class="${c.passed ? "pass" : "fail"}">${c.message}</td>
            </tr>
          `
        )}</tbody>
      </table>
    </details>
  `;
}

function describe(
  e: { action: string; target: string | null; version: number | null; previousVersion: number | null },
): string {
  const was = e.previousVersion !== null ? ` (was v${e.previousVersion})` : "";
  switch (e.action) {
    case "alias_set":
      return `@${e.target} -> v${e.version}${was}`;
    case "alias_rollback":
      return `@${e.target} rolled back to v${e.version}${was}`;
    case "alias_delete":
      return `@${e.target} removed${was}`;
    case "stage_set":
      return `v${e.version} stage -> ${e.target}`;
    case "register":
    case "registered":
      return `v${e.version} registered`;
    default:
      return `${e.action}${e.target ? ` ${e.target}` : ""}${
        e.version !== null ? ` v${e.version}` : ""
      }${was}`;
  }
}

export interface Flash {
  ok?: string;
  error?: string;
}

export async function modelPage(
  ctx: UiContext,
  name: string,
  viewer: Viewer,
  flash: Flash = {},
): Promise<Raw> {
  await ctx.registry.requireModel(name);
  const versions = (await ctx.registry.listVersions(name)).slice().sort((a, b) => b.version - a.version);
  const events = (await ctx.registry.events(name)).slice().reverse();
  // the gated metrics first, then the headline ones, as `deno task models` lists them (not the first 8 by name,
  // which hid roc_auc and recall behind accuracy, brier, fn and fp)
  const metricKeys = keyMetrics(versions, Object.keys(ctx.config.registry.gates), 8);
  const enc = encodeURIComponent(name);
  const options = versions.map((v) =>
    html`<option value="${v.version}">v${v.version}${
      v.aliases.length ? ` (@${v.aliases.join(", @")})` : ""
    }</option>`
  );
  const aliases = [...new Set(versions.flatMap((v) => v.aliases))];
  const actions = viewer.admin
    ? html`
      <h2>Actions</h2>
      <div class="cards">
        <form class="card" method="post" action="/models/${enc}/promote" aria-labelledby="promote-h">
          <h3 id="promote-h">Set or move an alias</h3>
          <input type="hidden" name="csrf" value="${viewer.csrf}">
          <p><label for="promote-version">Version</label> <select id="promote-version" name="version">${options}</select></p>
          <p><label for="promote-alias">Alias</label> <input type="text" id="promote-alias" name="alias" value="champion" required pattern="[A-Za-z0-9_][A-Za-z0-9_\\-]*"></p>
          <p><input type="checkbox" id="promote-force" name="force" value="1"> <label for="promote-force">Force past failing gates</label></p>
          <p><label for="promote-reason">Reason</label> <input type="text" id="promote-reason" name="reason"></p>
          <button type="submit" class="primary">Set alias</button>
        </form>
        <form class="card" method="post" action="/models/${enc}/stage" aria-labelledby="stage-h">
          <h3 id="stage-h">Promote to a stage</h3>
          <input type="hidden" name="csrf" value="${viewer.csrf}">
          <p><label for="stage-version">Version</label> <select id="stage-version" name="version">${options}</select></p>
          <p><label for="stage-stage">Stage</label> <select id="stage-stage" name="stage">${STAGES.filter((
            s,
          ) => s !== "Archived").map((s) => html`<option>${s}</option>`)}</select></p>
          <p><input type="checkbox" id="stage-force" name="force" value="1"> <label for="stage-force">Force past failing gates</label></p>
          <p><label for="stage-reason">Reason</label> <input type="text" id="stage-reason" name="reason"></p>
          <button type="submit" class="primary">Promote</button>
        </form>
        <form class="card" method="post" action="/models/${enc}/archive" aria-labelledby="archive-h">
          <h3 id="archive-h">Archive a version</h3>
          <input type="hidden" name="csrf" value="${viewer.csrf}">
          <p><label for="archive-version">Version</label> <select id="archive-version" name="version">${options}</select></p>
          <p><input type="checkbox" id="archive-force" name="force" value="1"> <label for="archive-force">Also remove its aliases</label></p>
          <p><label for="archive-reason">Reason</label> <input type="text" id="archive-reason" name="reason"></p>
          <button type="submit">Archive</button>
        </form>
        <form class="card" method="post" action="/models/${enc}/rollback" aria-labelledby="rollback-h">
          <h3 id="rollback-h">Roll back an alias</h3>
          <input type="hidden" name="csrf" value="${viewer.csrf}">
          <p><label for="rollback-alias">Alias</label> <select id="rollback-alias" name="alias">${(aliases
              .length
            ? aliases
            : ["champion"]).map((a) => html`<option>${a}</option>`)}</select></p>
          <button type="submit">Roll back</button>
        </form>
      </div>
    `
    : html`<p class="notice" role="note">Read-only: ${
      viewer.adminEnabled
        ? html`<a href="/login">log in</a> to set aliases, promote, archive or roll back.`
        : "set ORCHARD_ADMIN_TOKEN and restart the UI to allow actions."
    }</p>`;
  return html`
    <h1>Model ${name}</h1>
    ${flash.ok ? html`<p class="ok" role="status">${flash.ok}</p>` : ""}
    ${flash.error ? html`<p class="error" role="alert">${flash.error}</p>` : ""}
    <h2>Versions</h2>
    <table id="versions">
      <thead>
        <tr><th scope="col">Version</th><th scope="col">Aliases</th><th scope="col">Stage</th><th scope="col">Status</th><th scope="col">Run</th><th scope="col">Created</th>${metricKeys
          .map((m) => html`<th scope="col">${m}</th>`)}<th scope="col">Gates</th></tr>
      </thead>
      <tbody>${versions.map((v) =>
        html`<tr><td>v${v.version}</td><td>${
          v.aliases.map((a) => html`<span class="badge ${a}">@${a}</span>`)
        }</td><td>${v.stage}</td><td>${v.status}</td><td><a class="mono" href="/runs/${v.runId}">${
          short(v.runId)
        }</a></td><td>${when(v.created)}</td>${
          metricKeys.map((m) => html`<td class="num">${cell(v.metrics[m])}</td>`)
        }<td>${gateCell(v)}</td></tr>`
      )}</tbody>
    </table>
    ${versions.length >= 2
      ? html`
        <h2>Compare two versions</h2>
        <form method="get"
          action="/models/${enc}/compare"><label for="cmp-a">Version</label> <select id="cmp-a" name="a">${options}</select>
        <label for="cmp-b">with</label> <select id="cmp-b" name="b">${versions.map((v, i) =>
          html`
            <option value="${v.version}" ${raw(i === 1 ? " selected" : "")}>v${v.version}</option>
          `
        )}</select> <button type="submit">Compare</button></form>
      `
      : ""}
    ${actions}
    <h2>Alias history</h2>
    ${events.length
      ? html`
        <ol class="timeline" id="history">${events.map((e) =>
          html`
            <li
              class="${e.action === "alias_rollback" ? "rollback" : e.action}"><time datetime="${new Date(
                e.time,
              ).toISOString()}">${when(e.time)}</time> — <strong>${describe(e)}</strong> by ${e.actor
                ? html`<span class="actor">${e.actor}</span>`
                : html`<span class="actor unknown">unknown</span>`}${e.reason
                ? html`
                  — <span class="muted">why: ${e.reason}</span>
                `
                : ""}${e.action === "alias_rollback"
                ? html`
                  <span class="badge">rollback</span>
                `
                : ""}</li>
          `
        )}</ol>
        <p
          class="muted">Each move is recorded with who made it (the CLI: ORCHARD_ACTOR or the OS user; this UI: ui:&lt;name&gt; of the login), when, and why (the reason given). Moves recorded before actors were (registry schema v2) show unknown.</p>
      `
      : html`<p class="muted">No moves recorded.</p>`}
  `;
}

export async function modelComparePage(ctx: UiContext, name: string, a: number, b: number): Promise<Raw> {
  const c = await ctx.registry.compare(name, a, b);
  return html`
    <h1>${name}: v${a} vs v${b}</h1>
    <p><a href="/models/${encodeURIComponent(name)}">← back to ${name}</a></p>
    <table>
      <thead>
        <tr>
          <th scope="col">Field</th>
          <th scope="col">v${a}</th>
          <th scope="col">v${b}</th>
          <th scope="col">Δ</th>
        </tr>
      </thead>
      <tbody>
    <tr><th scope="row">run</th><td><a href="/runs/${c.runs[0]}">${short(
      c.runs[0],
    )}</a></td><td><a href="/runs/${c.runs[1]}">${short(c.runs[1])}</a></td><td></td></tr>
    <tr class="${c.stages[0] !== c.stages[1] ? "differs" : ""}"><th scope="row">stage</th><td>${c
      .stages[0]}</td><td>${c.stages[1]}</td><td></td></tr>
    <tr><th scope="row">aliases</th><td>${c.aliases[0].map((x) => "@" + x).join(", ")}</td><td>${c.aliases[1]
      .map((x) => "@" + x).join(", ")}</td><td></td></tr>
    ${c.metrics.map((m) =>
      html`
        <tr class="${m.delta !== 0 ? "differs" : ""}">
          <th scope="row">metrics.${m.key}</th>
          <td class="num">${cell(m.values[0])}</td>
          <td class="num">${cell(m.values[1])}</td>
          <td class="num">${m.delta === null ? "-" : (m.delta > 0 ? "+" : "") + cell(m.delta)}</td>
        </tr>
      `
    )}
    ${c.params.map((p) =>
      html`
        <tr class="${p.same ? "" : "differs"}">
          <th scope="row">${p.same ? "" : html`<span class="badge" title="differs">≠</span>`}params.${p
            .key}</th>
          <td>${cell(p.values[0])}</td>
          <td>${cell(p.values[1])}</td>
          <td></td>
        </tr>
      `
    )}
      </tbody>
    </table>
  `;
}
