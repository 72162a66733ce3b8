#!/bin/sh
# Regenerates the fit logs in this folder (see README.md). Usage:
#   data/calibration/fits/fit.sh [path/to/fleetsim]
set -e
cd "$(dirname "$0")/../../.."
FLEETSIM=${1:-build/fleetsim}
D=data/calibration
join() { ls "$@" | tr '\n' ',' | sed 's/,$//'; }
"$FLEETSIM" calibrate fit --chip h100 --cv --profile "$(join $D/h100/vidur_mlp_*.csv)" > $D/fits/h100_fit.txt
"$FLEETSIM" calibrate fit --chip a100 --cv --profile "$(join $D/a100/vidur_mlp_*.csv)" > $D/fits/a100_fit.txt
for c in h100 a100; do
  "$FLEETSIM" calibrate fit --chip $c --cv --profile $D/$c/vidur_all_reduce_${c}_dgx.csv > $D/fits/${c}_collective_fit.txt
done
"$FLEETSIM" calibrate e2e --perf data/splitwise/perf_model.csv > $D/fits/e2e_splitwise.txt
