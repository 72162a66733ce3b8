# Shared by bench/seeds_speculative.sh and bench/seeds_mtp.sh, which source it
# from the repository root with their own arguments: the fleetsim binary
# (BIN, from the build folder given as the first argument, default build),
# the output folder (OUT, kept; a new temporary one unless set), the traces
# of one request, and replays of $MODEL, alone and at rising load.

BIN=${1:-build}/fleetsim
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"

write_traces() {  # PROMPT OUTPUT
  # $OUT/lone.csv: one request of PROMPT + OUTPUT tokens at t = 0;
  # $OUT/lengths.csv: 50 of them, the lengths a --rate replay draws from.
  local i
  printf 'arrived_at,num_prefill_tokens,num_decode_tokens\n0,%d,%d\n' \
    "$1" "$2" >"$OUT/lone.csv"
  for ((i = 0; i < 50; i++)); do echo "0,$1,$2"; done |
    cat <(echo arrived_at,num_prefill_tokens,num_decode_tokens) - \
      >"$OUT/lengths.csv"
}

replay() {  # NAME CLUSTER [replay flags...]: $MODEL into $OUT/NAME
  local name=$1 file=$2
  shift 2
  "$BIN" replay --model "$MODEL" --cluster "$file" --out "$OUT/$name" "$@" \
    >"$OUT/$name.log" 2>&1
}

load_sweep() {  # VARIANT SUFFIX
  # For each of $STACKS and $RATES: 60 s of Poisson arrivals of the
  # lengths.csv request on $OUT/plain_<stack>.txtpb (load_<stack>_plain_r<rate>)
  # and on $OUT/VARIANT_<stack>_SUFFIX.txtpb (load_<stack>_VARIANT_r<rate>).
  local stack rate
  for stack in $STACKS; do
    for rate in $RATES; do
      replay "load_${stack}_plain_r$rate" "$OUT/plain_$stack.txtpb" \
        --trace "$OUT/lengths.csv" --rate "$rate" --duration 60 --seed 1
      replay "load_${stack}_$1_r$rate" "$OUT/$1_${stack}_$2.txtpb" \
        --trace "$OUT/lengths.csv" --rate "$rate" --duration 60 --seed 1
    done
  done
}
