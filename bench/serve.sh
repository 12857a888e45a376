#!/usr/bin/env bash
# bench:serve — wrk against POST /predict: Orchard's service (deno serve --parallel,
# 2 workers, prediction log on) vs the FastAPI + scikit-learn reference
# (../shared/reference/fastapi_ref.py, uvicorn --workers 2), same model size
# (100 trees), same requests (single records drawn from wa_churn_valid.csv),
# 32 connections, DURATION seconds each, one after the other in the same run,
# on 127.0.0.1 only. The load generator shares the machine's cores.
#
#   deno task bench:serve                 # 30 s each
#   DURATION=5 deno task bench:serve      # a quick check
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-30}"
CONNS="${CONNS:-32}"
THREADS="${THREADS:-2}"
WORKERS="${WORKERS:-2}"
DATA="${DATA:-../shared/data}"
REFDIR="${REFDIR:-../shared/reference}"
PORT="${PORT:-8781}"
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

run_wrk() { # port duration
  wrk -t"$THREADS" -c"$CONNS" -d"$2"s --latency -s "$WORK/predict.lua" "http://127.0.0.1:$1" | grep '^WRK_JSON' | sed 's/^WRK_JSON //'
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "deno $(deno --version | head -1 | cut -d' ' -f2); $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
setup=$(deno run -A bench/serve_setup.ts "$WORK" "$TRAIN" "$VALID" churn)
ART=$(echo "$setup" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["artifact"])')
echo "model: 100-tree forest, validation roc_auc $(echo "$setup" | /usr/bin/python3 -c 'import json,sys; print(round(json.load(sys.stdin)["roc_auc"], 4))')"

# --- Orchard: the same command line as `deno task serve` (least permissions), log to $WORK
mkdir -p "$WORK/predictions"
cmd=$(deno eval --quiet "
import { serveCommand } from './src/serve/launch.ts';
import { loadConfig } from './src/config/load.ts';
const c = serveCommand({ config: loadConfig(), host: '127.0.0.1', port: $PORT, modelUri: '$ART', workers: $WORKERS });
c.args.splice(c.args.indexOf('--allow-read=' + c.args.find((a) => a.startsWith('--allow-read='))!.slice(13)), 1,
  c.args.find((a) => a.startsWith('--allow-read='))! + ',$WORK');
c.args.splice(c.args.findIndex((a) => a.startsWith('--allow-write=')), 1,
  c.args.find((a) => a.startsWith('--allow-write='))! + ',$WORK');
console.log(c.args.join(' '));
")
ORCHARD_PREDICTIONS_DIR="$WORK/predictions" DENO_JOBS="$WORKERS" MODEL_URI="$ART" deno $cmd > "$WORK/orchard.log" 2>&1 &
PIDS+=($!)
ORCHARD_PID=$!
wait_up "http://127.0.0.1:$PORT/ready" 60
run_wrk "$PORT" 5 > /dev/null # warm-up
orchard=$(run_wrk "$PORT" "$DURATION")
echo "orchard:  $orchard"
kill -TERM "$ORCHARD_PID"; wait "$ORCHARD_PID" 2>/dev/null || true
logged=$(cat "$WORK"/predictions/*/*/*.ndjson 2>/dev/null | wc -l)

# --- reference: FastAPI + scikit-learn, 2 uvicorn workers
REF_TRAIN="$TRAIN" REF_TARGET=churn /usr/bin/python3 -m uvicorn --app-dir "$REFDIR" fastapi_ref:app \
  --host 127.0.0.1 --port "$REF_PORT" --workers 2 --log-level warning > "$WORK/ref.log" 2>&1 &
PIDS+=($!)
REF_PID=$!
wait_up "http://127.0.0.1:$REF_PORT/health" 120
run_wrk "$REF_PORT" 5 > /dev/null
ref=$(run_wrk "$REF_PORT" "$DURATION")
echo "fastapi:  $ref"
kill -TERM "$REF_PID"; wait "$REF_PID" 2>/dev/null || true

mkdir -p bench/results
/usr/bin/python3 - "$orchard" "$ref" "$DURATION" "$CONNS" "$logged" <<'PY' | tee bench/results/serve.json
import json, sys, os
o, r = json.loads(sys.argv[1]), json.loads(sys.argv[2])
errs = lambda x: sum(x["errors"].values())
out = {
  "duration_s": int(sys.argv[3]), "connections": int(sys.argv[4]),
  "orchard": o, "fastapi_reference": r,
  "speedup": round(o["rps"] / r["rps"], 1) if r["rps"] else None,
  "orchard_predictions_logged": int(sys.argv[5]),
  "targets": {"zero_errors": errs(o) == 0, "p99_under_5ms": o["p99_ms"] < 5,
              "at_least_50x": bool(r["rps"]) and o["rps"] / r["rps"] >= 50},
  "load_before": open("/proc/loadavg").read().split()[:3],
}
print(json.dumps(out, indent=2))
PY
