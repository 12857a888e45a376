#!/usr/bin/env bash
# bench:train — `deno task train` against scikit-learn's reference trainer
# (../shared/reference/sklearn_rf.py, 100 trees, n_jobs=2) on the wa_churn
# train/valid split, both timed as whole processes, alternating, in the same run.
# Prints each run and the medians; the Orchard runs go to experiment "bench".
#
#   deno task bench:train            # 3 rounds
#   ROUNDS=5 deno task bench:train
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${ROUNDS:-3}"
DATA="${DATA:-../shared/data}"
REF="${REF:-../shared/reference/sklearn_rf.py}"
TRAIN="$DATA/wa_churn_train.csv"
VALID="$DATA/wa_churn_valid.csv"
# what the run needs from outside the repo: one line naming it and how to get it, exit 2
deno run --allow-read --allow-run=/usr/bin/python3 bench/preflight.ts train --ref "$(dirname "$REF")" --data "$DATA"

now() { date +%s.%N; }
orchard_s=(); orchard_auc=(); sk_s=(); sk_auc=()
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "deno $(deno --version | head -1 | cut -d' ' -f2); $(/usr/bin/python3 -c 'import sklearn; print("scikit-learn", sklearn.__version__)')"
for ((i = 1; i <= ROUNDS; i++)); do
  t0=$(now)
  out=$(deno task -q train --data "$TRAIN" --validation "$VALID" --target churn --set tracking.experiment=bench --json 2>/dev/null)
  t1=$(now)
  s=$(echo "$t1 - $t0" | bc -l)
  auc=$(echo "$out" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["metrics"]["roc_auc"])')
  orchard_s+=("$s"); orchard_auc+=("$auc")
  printf 'round %d  orchard  %.3f s  roc_auc %.4f\n' "$i" "$s" "$auc"

  t0=$(now)
  out=$(/usr/bin/python3 "$REF" "$TRAIN" "$VALID" churn --trees 100 --jobs 2)
  t1=$(now)
  s=$(echo "$t1 - $t0" | bc -l)
  auc=$(echo "$out" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["roc_auc"])')
  sk_s+=("$s"); sk_auc+=("$auc")
  printf 'round %d  sklearn  %.3f s  roc_auc %.4f\n' "$i" "$s" "$auc"
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
om=$(median "${orchard_s[@]}"); sm=$(median "${sk_s[@]}")
oa=$(median "${orchard_auc[@]}"); sa=$(median "${sk_auc[@]}")
printf '\nmedian whole process: orchard %.3f s, scikit-learn %.3f s (ratio %.2f)\n' "$om" "$sm" "$(echo "$om / $sm" | bc -l)"
printf 'median validation ROC AUC: orchard %.4f, scikit-learn %.4f (target: >= %.4f)\n' "$oa" "$sa" "$(echo "$sa - 0.005" | bc -l)"
ok_t=$(echo "$om <= $sm" | bc -l); ok_a=$(echo "$oa >= $sa - 0.005" | bc -l)
if [ "$ok_t" = 1 ] && [ "$ok_a" = 1 ]; then echo "targets: met"; else echo "targets: NOT met (time ok=$ok_t, auc ok=$ok_a)"; exit 1; fi
