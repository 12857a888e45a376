import { equal } from "node:assert/strict";
import { previousAliasVersion } from "../../src/registry/history.ts";

const set = (version: number) => ({ action: "alias_set", version });

Deno.test("rollback goes to the version before the latest move", () => {
  equal(previousAliasVersion([set(1), set(2), set(3)], 3, new Set()), 2);
});

Deno.test("repeated rollbacks walk further back; a later set starts a new top", () => {
  const moves = [set(1), set(2), set(3), { action: "alias_rollback", version: 2 }];
  equal(previousAliasVersion(moves, 2, new Set()), 1);
  equal(previousAliasVersion([...moves, set(4)], 4, new Set()), 2);
});

Deno.test("deleted, archived and current versions are skipped; nothing left is undefined", () => {
  const moves = [set(1), set(2), { action: "alias_delete", version: 0 }, set(3)];
  equal(previousAliasVersion(moves, 3, new Set()), 2);
  equal(previousAliasVersion(moves, 3, new Set([2])), 1);
  equal(previousAliasVersion([set(1)], 1, new Set()), undefined);
  equal(previousAliasVersion([], null, new Set()), undefined);
});
