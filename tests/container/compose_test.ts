/**
 * compose.yaml, checked without a Docker engine: PostgreSQL, Redis, the
 * pipeline, the service and the UI; the app services are this image, their
 * commands real deno tasks, the store PostgreSQL, the models volume shared.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

interface Service {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}

const compose = parse(Deno.readTextFileSync(join(ROOT, "compose.yaml")), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const tasks = Object.keys(JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json"))).tasks);

Deno.test("compose: PostgreSQL, Redis, pipeline, service and UI", () => {
  const s = compose.services;
  assert.deepEqual(Object.keys(s).sort(), ["pipeline", "postgres", "redis", "service", "ui"]);
  assert.match(s.postgres.image!, /^postgres:15/);
  assert.match(s.redis.image!, /^redis:/);
  for (const name of ["pipeline", "service", "ui"]) {
    assert.equal(s[name].build, ".", `${name} is this repository's image`);
    const uri = s[name].environment!.ORCHARD_TRACKING_URI;
    const pg = s.postgres.environment!;
    assert.equal(
      uri,
      `postgresql://${pg.POSTGRES_USER}:${pg.POSTGRES_PASSWORD}@postgres:5432/${pg.POSTGRES_DB}`,
    );
    assert.ok(s[name].volumes!.includes("models:/app/models"), `${name} shares the models volume`);
  }
  assert.ok("models" in compose.volumes);
});

Deno.test("compose: every command is a deno task of deno.json; the service waits for the pipeline", () => {
  const s = compose.services;
  const named = (cmd: string[]) => [...cmd.join(" ").matchAll(/deno task ([\w:-]+)/g)].map((m) => m[1]);
  assert.deepEqual(named(s.pipeline.command!), ["pipeline", "features:materialize"]);
  assert.deepEqual(named(s.service.command!), ["serve"]);
  assert.deepEqual(named(s.ui.command!), ["ui"]);
  for (const name of ["pipeline", "service", "ui"]) {
    for (const t of named(s[name].command!)) assert.ok(tasks.includes(t), `${name}: no task '${t}'`);
  }
  // the online store is the Redis service, for the materialize step and the service alike
  assert.match(s.pipeline.command!.join(" "), /online_store=redis:\/\/redis:6379/);
  assert.match(s.service.command!.join(" "), /online_store=redis:\/\/redis:6379/);
  assert.equal(s.service.depends_on!.pipeline.condition, "service_completed_successfully");
  assert.deepEqual(s.service.ports, ["8000:8000"]);
  assert.match(s.ui.command!.join(" "), /--host 0\.0\.0\.0/);
  assert.match(s.ui.command!.join(" "), /--service http:\/\/service:8000/);
});
