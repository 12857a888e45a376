/** Alias history: where a rollback goes, worked out from the recorded alias moves. */

/** One recorded move of an alias (model_events rows, oldest first). */
export interface AliasMove {
  action: "alias_set" | "alias_rollback" | "alias_delete" | string;
  version: number;
}

/**
 * The version an alias rolls back to: the one it pointed to before its latest
 * move, skipping deleted, archived and current versions. Repeated rollbacks
 * walk further back (a rollback pops what was above its target). Undefined
 * when there is nothing to go back to.
 */
export function previousAliasVersion(
  moves: AliasMove[],
  current: number | null,
  archived: Set<number>,
): number | undefined {
  const stack: (number | null)[] = [];
  for (const m of moves) {
    if (m.action === "alias_rollback") {
      // a rollback went back to m.version, skipping what was above it
      while (stack.length && stack[stack.length - 1] !== m.version) stack.pop();
      if (stack.length === 0) stack.push(m.version);
    } else stack.push(m.action === "alias_delete" ? null : m.version);
  }
  stack.pop();
  const skip = (v: number | null) => v === null || v === current || archived.has(v);
  while (stack.length && skip(stack[stack.length - 1])) stack.pop();
  return stack[stack.length - 1] ?? undefined;
}
