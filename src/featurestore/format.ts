/** The human summaries of the feature store's tasks: plan and apply, one line per change. */
import type { PlanResult } from "./registry.ts";

const SIGN = { add: "+", change: "~", remove: "-", unchanged: "=" } as const;
const KIND = { entity: "entity", feature_view: "feature view", feature_service: "feature service" } as const;

export function planLines(r: PlanResult, applied: boolean): string {
  const lines = r.changes.map((c) => {
    const v = c.action === "add"
      ? ` (v${c.to})`
      : c.action === "change"
      ? ` (v${c.from} -> v${c.to})`
      : c.action === "remove"
      ? ` (v${c.from})`
      : ` (v${c.to})`;
    const details = c.details.length ? `: ${c.details.join("; ")}` : "";
    return `  ${SIGN[c.action]} ${KIND[c.kind]} ${c.name}${c.kind === "entity" ? "" : v}${details}`;
  });
  const counts = (["add", "change", "remove", "unchanged"] as const)
    .map((a) =>
      `${r.changes.filter((c) => c.action === a).length} ${
        a === "unchanged" ? "unchanged" : a === "add" ? "to add" : a === "change" ? "to change" : "to remove"
      }`
    );
  const head = applied
    ? r.pending
      ? `features:apply: registered ${r.pending} change(s) in ${r.registry}`
      : `features:apply: nothing to change (${r.registry})`
    : r.pending
    ? `features:plan: ${counts.join(", ")} (against ${r.registry}); deno task features:apply registers them`
    : `features:plan: no changes (against ${r.registry})`;
  return [head, ...lines].join("\n");
}
