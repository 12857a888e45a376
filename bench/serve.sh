#!/usr/bin/env bash
# bench:serve — wrk against POST /predict, one server after the other in the same run, on 127.0.0.1:
#   1. bare `deno serve --parallel` answering a constant JSON (bench/serve_bare_deno.ts): the machine's limit
#   2. a bare Hono app under `deno serve --parallel` that parses the JSON body and answers JSON
#      (bench/serve_bare_hono.ts): the limit for a service, and what Orchard is reported as a fraction of
#   3. Orchard's service with the default engine (gradient boosting, its defaults), the same command line
#      as `deno task serve` (least permissions, 2 workers, prediction log on)
#   4. Orchard's service with a 100-tree forest (the reference's model size)
#   4b. Orchard's service with the boosting model trained on a feature service, asked by entity id
#      ({"customer_id"}, the record joined from a SQLite online store): reported against 3 in each round
#   5. the FastAPI + scikit-learn reference (../shared/reference/fastapi_ref.py, uvicorn --workers 2)
# Same requests for all (single records drawn from wa_churn_valid.csv), 32 connections. The four Deno
# servers run at once (idle ones take no CPU) and wrk visits each in turn, ROUNDS rounds of DURATION
# seconds each (rotating the order), after a 5 s warm-up each; each round's ratios compare neighbours
# in time, and the summary takes their medians. The load generator shares the machine's cores. Each run
# also records the server's CPU time per request (/proc/PID/stat, all its threads), reported against bare
# Hono's in the same round: on a machine whose hypervisor steals time, req/s swings by 2x between rounds
# while the CPU a request costs does not.
#
#   deno task bench:serve                         # 5 rounds of 10 s each
#   ROUNDS=1 DURATION=5 deno task bench:serve     # a quick check
#   SKIP_REF=1 deno task bench:serve      # without FastAPI (its figure is then missing from the results)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-10}"
ROUNDS="${ROUNDS:-5}"
CONNS="${CONNS:-32}"
THREADS="${THREADS:-2}"
WORKERS="${WORKERS:-2}"
DATA="${DATA:-../shared/data}"
REFDIR="${REFDIR:-../shared/reference}"
PORT="${PORT:-8781}"
FOREST_PORT="${FOREST_PORT:-8784}"
BYID_PORT="${BYID_PORT:-8785}"
BARE_PORT="${BARE_PORT:-8782}"
HONO_PORT="${HONO_PORT:-8783}"
REF_PORT="${REF_PORT:-8766}"
TRAIN="$DATA/wa_churn_train.csv"
VALID="$DATA/wa_churn_valid.csv"
# what the run needs from outside the repo: one line naming it and how to get it, exit 2
deno run --allow-read --allow-run=/usr/bin/python3 bench/preflight.ts serve --ref "$REFDIR" --data "$DATA"
WORK="$(mktemp -d /tmp/orchard-bench-serve.XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

wait_up() { # url seconds
  for _ in $(seq 1 $(($2 * 10))); do
    curl -sf -o /dev/null "$1" && return 0
    sleep 0.1
  done
  echo "bench:serve: $1 did not come up" >&2
  exit 1
}

run_wrk() { # port duration [script]
  wrk -t"$THREADS" -c"$CONNS" -d"$2"s --latency -s "$WORK/${3:-predict.lua}" "http://127.0.0.1:$1" | grep '^WRK_JSON' | sed 's/^WRK_JSON //'
}

stop() { # pid
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "deno $(deno --version | head -1 | cut -d' ' -f2); $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
setup=$(deno run -A bench/serve_setup.ts "$WORK" "$TRAIN" "$VALID" churn)
field() { echo "$setup" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
BOOSTING=$(field '["models"]["boosting"]["artifact"]')
FOREST=$(field '["models"]["forest"]["artifact"]')
BYID=$(field '["models"]["boosting_by_id"]["artifact"]')
FSDIR=$(field '["featurestore"]')
echo "models: boosting (defaults) roc_auc $(field '["models"]["boosting"]["roc_auc"]'), 100-tree forest roc_auc $(field '["models"]["forest"]["roc_auc"]')"

# --- every Deno server up at once (idle ones take no CPU), then wrk on each in turn, ROUNDS times,
# rotating the order: a slow stretch of the shared machine then lands on every server alike, and
# each round's ratios compare neighbours in time
DENO_JOBS="$WORKERS" deno serve --parallel --quiet --host=127.0.0.1 --port="$BARE_PORT" \
  --allow-net=127.0.0.1:"$BARE_PORT" bench/serve_bare_deno.ts > "$WORK/bare.log" 2>&1 &
PIDS+=($!)
DENO_JOBS="$WORKERS" deno serve --parallel --quiet --host=127.0.0.1 --port="$HONO_PORT" \
  --allow-net=127.0.0.1:"$HONO_PORT" --allow-read=node_modules bench/serve_bare_hono.ts > "$WORK/hono.log" 2>&1 &
PIDS+=($!)

# Orchard: the same command line as `deno task serve` (least permissions), log to $WORK
orchard_up() { # artifact name port [--set override]
  local art="$1" name="$2" port="$3" sets="${4:-}"
  mkdir -p "$WORK/predictions-$name"
  local cmd
  cmd=$(deno eval --quiet "
import { serveCommand } from './src/serve/launch.ts';
import { loadConfig } from './src/config/load.ts';
const sets = '$sets' ? ['$sets'] : [];
const c = serveCommand({ config: loadConfig({ sets }), host: '127.0.0.1', port: $port, modelUri: '$art', workers: $WORKERS });
const at = (p: string) => c.args.findIndex((a) => a.startsWith(p));
c.args[at('--allow-read=')] += ',$WORK';
c.args[at('--allow-write=')] += ',$WORK';
console.log(c.args.join(' '));
")
  local env_sets=()
  [ -n "$sets" ] && env_sets=("ORCHARD_SETS=[\"$sets\"]")
  env "${env_sets[@]}" ORCHARD_PREDICTIONS_DIR="$WORK/predictions-$name" DENO_JOBS="$WORKERS" MODEL_URI="$art" deno $cmd > "$WORK/orchard-$name.log" 2>&1 &
  PIDS+=($!)
}
orchard_up "$BOOSTING" boosting "$PORT"
orchard_up "$FOREST" forest "$FOREST_PORT"
orchard_up "$BYID" boosting_by_id "$BYID_PORT" "feature_store.directory=$FSDIR"
wait_up "http://127.0.0.1:$BARE_PORT/" 30
wait_up "http://127.0.0.1:$HONO_PORT/health" 30
wait_up "http://127.0.0.1:$PORT/ready" 60
wait_up "http://127.0.0.1:$FOREST_PORT/ready" 60
wait_up "http://127.0.0.1:$BYID_PORT/ready" 60

# the server's CPU time (user + system, all its threads) in clock ticks: what a request costs the machine,
# which a neighbour's load or the hypervisor's steal does not inflate the way it does wall-clock req/s
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# times the kernel took a core from one of the server's threads while it could still run (nonvoluntary
# context switches, all its threads): with wrk on the same two cores, the queue the tail comes from
# (per thread, counting only threads alive at both reads: a thread that ends takes its count with it)
preempted_threads() { # pid -> "tid count" lines
  for t in /proc/"$1"/task/*; do
    awk -v tid="${t##*/}" '/^nonvoluntary_ctxt_switches/{print tid, $2}' "$t/status" 2>/dev/null || true
  done
}
preempted_since() { # before-file pid
  preempted_threads "$2" | awk 'NR == FNR {before[$1] = $2; next} ($1 in before) {n += $2 - before[$1]} END {print n + 0}' "$1" -
}
NAMES=(bare_deno_serve bare_hono orchard_boosting orchard_forest orchard_boosting_by_id)
PORTS=("$BARE_PORT" "$HONO_PORT" "$PORT" "$FOREST_PORT" "$BYID_PORT")
SCRIPTS=(predict.lua predict.lua predict.lua predict.lua predict_by_id.lua)
N=${#NAMES[@]}
for i in $(seq 0 $((N - 1))); do run_wrk "${PORTS[$i]}" 5 "${SCRIPTS[$i]}" > /dev/null; done # warm-up
: > "$WORK/rounds.ndjson"
for r in $(seq 1 "$ROUNDS"); do
  for k in $(seq 0 $((N - 1))); do
    i=$(((k + r) % N))
    c0=$(cpu_ticks "${PIDS[$i]}")
    preempted_threads "${PIDS[$i]}" > "$WORK/preempted.before"
    out=$(run_wrk "${PORTS[$i]}" "$DURATION" "${SCRIPTS[$i]}")
    c1=$(cpu_ticks "${PIDS[$i]}")
    pre=$(preempted_since "$WORK/preempted.before" "${PIDS[$i]}")
    echo "{\"round\":$r,\"server\":\"${NAMES[$i]}\",\"wrk\":$out,\"cpu_ticks\":$((c1 - c0)),\"preempted\":$pre}" >> "$WORK/rounds.ndjson"
    echo "round $r ${NAMES[$i]}: $out preempted $pre"
  done
done
for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
wait 2>/dev/null || true
PIDS=()
logged_boosting=$(cat "$WORK"/predictions-boosting/*/*/*.ndjson 2>/dev/null | wc -l)
logged_forest=$(cat "$WORK"/predictions-forest/*/*/*.ndjson 2>/dev/null | wc -l)
logged_by_id=$(cat "$WORK"/predictions-boosting_by_id/*/*/*.ndjson 2>/dev/null | wc -l)

# --- 5. reference: FastAPI + scikit-learn, 2 uvicorn workers
ref='null'
if [ -z "${SKIP_REF:-}" ]; then
  REF_TRAIN="$TRAIN" REF_TARGET=churn /usr/bin/python3 -m uvicorn --app-dir "$REFDIR" fastapi_ref:app \
    --host 127.0.0.1 --port "$REF_PORT" --workers 2 --log-level warning > "$WORK/ref.log" 2>&1 &
  PIDS+=($!)
  REF_PID=$!
  wait_up "http://127.0.0.1:$REF_PORT/health" 120
  run_wrk "$REF_PORT" 5 > /dev/null
  ref=$(run_wrk "$REF_PORT" "$DURATION")
  echo "fastapi:           $ref"
  stop "$REF_PID"
fi

mkdir -p bench/results
/usr/bin/python3 - "$WORK/rounds.ndjson" "$ref" "$DURATION" "$CONNS" "$LOAD_BEFORE" "$logged_boosting" "$logged_forest" "$ROUNDS" "$logged_by_id" "$(getconf CLK_TCK)" <<'PY' | tee bench/results/serve.json
import json, sys, statistics as st
rows = [json.loads(l) for l in open(sys.argv[1])]
r = json.loads(sys.argv[2])
rounds = int(sys.argv[8])
TICK = int(sys.argv[10])
by = {}
for x in rows: by.setdefault(x["server"], {})[x["round"]] = x["wrk"]
errs = lambda x: sum(x["errors"].values())
cpu = {}
for x in rows: cpu.setdefault(x["server"], {})[x["round"]] = x["cpu_ticks"] / TICK / x["wrk"]["requests"] * 1e6
pre = {}
for x in rows: pre.setdefault(x["server"], {})[x["round"]] = x["preempted"] / x["wrk"]["requests"] * 1000
def summary(name):
  runs = [by[name][k] for k in sorted(by[name])]
  return {"rps_median": round(st.median(x["rps"] for x in runs), 1),
          "server_cpu_us_per_request_median": round(st.median(cpu[name].values()), 1),
          "preempted_per_1000_requests_median": round(st.median(pre[name].values()), 1),
          "p99_ms_median": round(st.median(x["p99_ms"] for x in runs), 3),
          "p50_ms_median": round(st.median(x["p50_ms"] for x in runs), 3),
          "requests": sum(x["requests"] for x in runs), "errors": sum(errs(x) for x in runs), "rounds": runs}
out = {"duration_s": int(sys.argv[3]), "connections": int(sys.argv[4]), "rounds": rounds,
       "load_before": sys.argv[5].split()}
for n in ["bare_deno_serve", "bare_hono", "orchard_boosting", "orchard_forest", "orchard_boosting_by_id"]: out[n] = summary(n)
logged = {"orchard_boosting": int(sys.argv[6]), "orchard_forest": int(sys.argv[7]), "orchard_boosting_by_id": int(sys.argv[9])}
for n in ["orchard_boosting", "orchard_forest", "orchard_boosting_by_id"]:
  o = out[n]
  fr = [by[n][k]["rps"] / by["bare_hono"][k]["rps"] for k in sorted(by[n])]
  p99 = [by[n][k]["p99_ms"] / by["bare_hono"][k]["p99_ms"] for k in sorted(by[n])]
  o["of_bare_hono_per_round"] = [round(x, 3) for x in fr]
  # the CPU a request costs against bare Hono's, round by round (the steal-proof view of the same run)
  o["cpu_per_request_over_bare_hono"] = round(st.median(cpu[n][k] / cpu["bare_hono"][k] for k in sorted(cpu[n])), 2)
  o["of_bare_hono"] = round(st.median(fr), 3)
  o["preempted_over_bare_hono"] = round(st.median(pre[n][k] / pre["bare_hono"][k] for k in sorted(pre[n]) if pre["bare_hono"][k]), 2) if any(pre["bare_hono"].values()) else None
  o["p99_over_bare_hono_p99_per_round"] = [round(x, 2) for x in p99]
  o["p99_over_bare_hono_p99"] = round(st.median(p99), 2)
  o["of_bare_deno_serve"] = round(o["rps_median"] / out["bare_deno_serve"]["rps_median"], 3)
  o["logged"] = logged[n]
  o["vs_fastapi"] = round(o["rps_median"] / r["rps"], 1) if r and r["rps"] else None
  o["targets"] = {"zero_errors": o["errors"] == 0, "at_least_60pct_of_bare_hono": o["of_bare_hono"] >= 0.6,
                  "p99_at_most_2x_bare_hono": o["p99_over_bare_hono_p99"] <= 2,
                  "every_request_logged": logged[n] >= o["requests"]}
# by entity id against the full record, same model, round by round (issue 17's target: at least 0.8)
b = out["orchard_boosting_by_id"]
fr = [by["orchard_boosting_by_id"][k]["rps"] / by["orchard_boosting"][k]["rps"] for k in sorted(by["orchard_boosting"])]
b["of_full_record_per_round"] = [round(x, 3) for x in fr]
b["of_full_record"] = round(st.median(fr), 3)
b["targets"]["at_least_80pct_of_full_record"] = b["of_full_record"] >= 0.8
out["fastapi_reference"] = r
print(json.dumps(out, indent=2))
PY
