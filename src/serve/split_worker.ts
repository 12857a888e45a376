/// <reference lib="deno.worker" />
/**
 * The helper thread of split.ts: holds one model version, loaded from its
 * artifact folder (checked against the version the worker serves), and scores
 * the second half of large /predict batches: the answer's predictions, the
 * class of each row for the metrics, and the encoded prediction-log lines.
 * Anything it cannot do is answered `ok: false`, and the worker scores the
 * whole body itself.
 */
import { loadArtifact } from "../models/artifact.ts";
import { prepare, type ServedModel } from "./holder.ts";
import {
  type EncodedLines,
  encodedLogLines,
  modelKey,
  type ScoredPart,
  scoreValid,
  type SplitReply,
  type SplitRequest,
  validatePart,
  type ValidPart,
} from "./split.ts";

let model: ServedModel | null = null;
let held = "";
/** the half validated and waiting for the worker's go (one batch at a time) */
let pending: { q: Extract<SplitRequest, { t: "score" }>; m: ServedModel; valid: ValidPart } | null = null;

const reply = (r: SplitReply, transfer: Transferable[] = []) => self.postMessage(r, transfer);

self.onmessage = (e: MessageEvent<SplitRequest>) => {
  const q = e.data;
  if (q.t === "load") {
    try {
      const m = prepare(
        { uri: q.uri, name: q.name, version: q.version, dir: q.dir, model: loadArtifact(q.dir) },
        q.limits,
      );
      // the folder holds what the worker loaded (a registered version's files never change)
      if (modelKey(m) !== q.key) throw new Error(`${q.dir} is not the version being served`);
      model = m;
      held = q.key;
      reply({ t: "loaded", key: q.key, ok: true });
    } catch (err) {
      model = null;
      held = "";
      reply({ t: "loaded", key: q.key, ok: false, error: err instanceof Error ? err.message : String(err) });
    }
    return;
  }
  if (q.t === "drop") {
    pending = null;
    return;
  }
  if (q.t === "go") return scoreHeld(q.id);
  pending = null;
  if (!model || q.key !== held) return reply({ t: "scored", id: q.id, ok: false });
  let valid: ValidPart;
  try {
    valid = validatePart(model, q.text, q.maxBatch);
  } catch {
    return reply({ t: "scored", id: q.id, ok: false }); // the worker scores the whole body and says why
  }
  pending = { q, m: model, valid };
  reply({ t: "validated", id: q.id, rows: valid.rows });
};

/** Scores the half validated last, once the worker knows the whole batch is within max_batch. */
function scoreHeld(id: number): void {
  const p = pending;
  pending = null;
  if (!p || p.q.id !== id) return reply({ t: "scored", id, ok: false });
  const { q, m } = p;
  let part: ScoredPart;
  try {
    part = scoreValid(m, p.valid, q.top);
  } catch {
    return reply({ t: "scored", id, ok: false });
  }
  const t = part.table;
  const label = t.label ? t.label.slice(0, t.rows) : null;
  reply({ t: "scored", id, ok: true, rows: t.rows, answer: part.answer, label }, label ? [label.buffer] : []);
  if (!q.log) return;
  // after the answer: the log lines are off the batch's latency
  let lines: EncodedLines | null = null;
  try {
    lines = encodedLogLines(m, part, q.rid, q.ts);
  } catch { /* none: the worker scores the half again for them */ }
  reply({ t: "lines", id, lines }, lines ? [lines.bytes.buffer, lines.ends.buffer] : []);
}
