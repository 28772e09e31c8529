#!/bin/bash
# run.sh - runs the benchmark workloads (bench/workloads/*.c, built by
# bench/build.sh) under every engine and prints a table of median times:
#   native       gcc -O2, the baseline every checksum is compared with;
#   wasmbox      wasmbox run --interp APP.wasm ARGS (the interpreter);
#   wasmbox-aot  wasmbox run --aot APP.wasm ARGS: native code from the
#                ahead-of-time compiler (wasmbox-aotc beside the wasmbox
#                binary), compiled into OUT/aot-cache before any timing;
#                compile time and artifact size are reported;
#   node         node's V8 through node:wasi (bench/node-wasi.mjs);
#   wasm2c       wabt's wasm2c translated to C, gcc -O2;
#   --engine NAME=PATH  any other engine, run as PATH APP.wasm ARGS
#                (e.g. a wasm3 built from github.com/wasm3/wasm3);
#   wasm-interp  wabt's interpreter (wasm-interp --wasi, or build.sh's
#                wabt-wasi when Debian's wasm-interp has no WASI); so slow
#                that it only ever runs the small inputs: its column is
#                marked "*", and its ratios compare small-input runs.
# Every run's output must equal native's (the workloads print checksums);
# a mismatch or a failed run shows as an error in the table, and the exit
# status is then 1. An engine whose tool is not installed is skipped with
# the reason (wasmbox and native cannot be skipped).
#
# usage: bench/run.sh [OPTIONS]
#   --runs N             runs per workload and engine, median taken (5)
#   --small              CI smoke: the small inputs, one run, checksums
#                        checked, no timing claims
#   --only W1,W2         only these workloads
#   --wasmbox PATH       the wasmbox binary (build/wasmbox)
#   --engine NAME=PATH   one more engine (repeatable)
#   --skip E1,E2         leave these engines out (node, wasm2c, wasm-interp, ...)
#   --out DIR            build and results directory (bench/out)
#   --timeout SEC        time limit of one run (600; --small: 120)
# The table is also written to OUT/results.txt, the raw times to
# OUT/results.tsv (workload, engine, input, run, seconds).
set -euo pipefail
export LC_ALL=C

bench=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$bench/.." && pwd)

runs=5
runs_given=0
small=0
only=""
wasmbox=$root/build/wasmbox
out=$bench/out
timeout_s=""
skip=","
extra_names=()
extra_paths=()

die() {
    echo "run.sh: $*" >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case $1 in
    --runs) runs=${2:?run.sh: --runs needs a number}; runs_given=1; shift 2 ;;
    --runs=*) runs=${1#--runs=}; runs_given=1; shift ;;
    --small) small=1; shift ;;
    --only) only=${2:?run.sh: --only needs a list}; shift 2 ;;
    --only=*) only=${1#--only=}; shift ;;
    --wasmbox) wasmbox=${2:?run.sh: --wasmbox needs a path}; shift 2 ;;
    --wasmbox=*) wasmbox=${1#--wasmbox=}; shift ;;
    --engine | --engine=*)
        if [ "$1" = --engine ]; then
            spec=${2:?run.sh: --engine needs NAME=PATH}
            shift 2
        else
            spec=${1#--engine=}
            shift
        fi
        name=${spec%%=*}
        path=${spec#*=}
        if [ "$name" = "$spec" ] || [ -z "$name" ] || [ -z "$path" ]; then
            die "--engine wants NAME=PATH, not '$spec'"
        fi
        [[ $name =~ ^[A-Za-z0-9._-]+$ ]] || die "--engine name '$name': use letters, digits, . _ -"
        case $name in
        native | wasmbox | node | wasm2c | wasm-interp) die "--engine $name: that name is taken" ;;
        esac
        for n in "${extra_names[@]+"${extra_names[@]}"}"; do
            [ "$n" != "$name" ] || die "--engine $name given twice"
        done
        [ -x "$path" ] || die "--engine $name: $path is not an executable file"
        extra_names+=("$name")
        extra_paths+=("$(cd "$(dirname "$path")" && pwd)/$(basename "$path")")
        ;;
    --skip) skip=",${2:?run.sh: --skip needs a list},"; shift 2 ;;
    --skip=*) skip=",${1#--skip=},"; shift ;;
    --out) out=${2:?run.sh: --out needs a directory}; shift 2 ;;
    --out=*) out=${1#--out=}; shift ;;
    --timeout) timeout_s=${2:?run.sh: --timeout needs seconds}; shift 2 ;;
    --timeout=*) timeout_s=${1#--timeout=}; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
    esac
done

[[ $runs =~ ^[1-9][0-9]*$ ]] || die "--runs wants a positive number, not '$runs'"
if [ "$small" -eq 1 ] && [ "$runs_given" -eq 0 ]; then
    runs=1
fi
timeout_s=${timeout_s:-$([ "$small" -eq 1 ] && echo 120 || echo 600)}
[[ $timeout_s =~ ^[1-9][0-9]*$ ]] || die "--timeout wants a positive number of seconds"
case $skip in *,native,* | *,wasmbox,*) die "native and wasmbox cannot be skipped" ;; esac
[ -x "$wasmbox" ] || die "no wasmbox binary at $wasmbox (build it, or pass --wasmbox PATH)"
wasmbox=$(cd "$(dirname "$wasmbox")" && pwd)/$(basename "$wasmbox")

# ---- the workloads and their sizes ------------------------------------------
# Each workload's header says "full: X = N (default), small: X = M".
workloads=()
declare -A full_arg small_arg
if [ -n "$only" ]; then
    IFS=, read -r -a workloads <<<"$only"
else
    for src in "$bench"/workloads/*.c; do
        workloads+=("$(basename "$src" .c)")
    done
fi
[ ${#workloads[@]} -gt 0 ] || die "no workloads"
for w in "${workloads[@]}"; do
    src=$bench/workloads/$w.c
    [ -f "$src" ] || die "no workload '$w' (bench/workloads/$w.c)"
    line=$(grep -m1 -E 'full: [A-Z]+ = [0-9]+.*small: [A-Z]+ = [0-9]+' "$src") ||
        die "$src: no 'full: X = N ..., small: X = M' line in its header"
    full_arg[$w]=$(sed -E 's/.*full: [A-Z]+ = ([0-9]+).*/\1/' <<<"$line")
    small_arg[$w]=$(sed -E 's/.*small: [A-Z]+ = ([0-9]+).*/\1/' <<<"$line")
done

# ---- build -----------------------------------------------------------------
only_list=$(IFS=,; echo "${workloads[*]}")
"$bench/build.sh" --only "$only_list" "$out" || die "build.sh failed"
out=$(cd "$out" && pwd)

# ---- the engines -------------------------------------------------------------
skipped() { [[ $skip == *",$1,"* ]]; }
engines=(native wasmbox)
notes=()
aot_cache=$out/aot-cache
if skipped wasmbox-aot; then
    notes+=("wasmbox-aot: skipped (--skip)")
elif [ ! -x "$(dirname "$wasmbox")/wasmbox-aotc" ]; then
    notes+=("wasmbox-aot: skipped, no wasmbox-aotc beside $wasmbox (LLVM 16: scripts/setup.sh)")
else
    # Compile every workload first (the cache is then warm for every run);
    # report what it costs.
    rm -rf "$aot_cache"
    aot_ok=1
    for w in "${workloads[@]}"; do
        t0=${EPOCHREALTIME:-$(date +%s.%N)}
        if ! WASMBOX_CACHE_DIR=$aot_cache /usr/bin/time -f '%M' -o "$out/aot-rss.$w" \
            "$wasmbox" compile -q "$out/wasm/$w.wasm"; then
            aot_ok=0
            break
        fi
        t1=${EPOCHREALTIME:-$(date +%s.%N)}
        size=$(stat -c %s "$out/wasm/$w.wasm")
        asize=$(stat -c %s "$(ls -t "$aot_cache"/*.wbaot | head -n 1)")
        notes+=("$(awk -v w="$w" -v a="$t0" -v b="$t1" -v s="$size" -v as="$asize" -v r="$(cat "$out/aot-rss.$w")" \
            'BEGIN { printf "wasmbox-aot compile of %s: %.2f s for %d KB of Wasm (%.1f s/MB), peak RSS %d MB, artifact %d KB", w, b - a, s / 1024, (b - a) / (s / 1048576), r / 1024, as / 1024 }')")
    done
    if [ "$aot_ok" -eq 1 ]; then
        engines+=(wasmbox-aot)
    else
        notes+=("wasmbox-aot: skipped, wasmbox compile failed (see its output)")
    fi
fi
if skipped node; then
    notes+=("node: skipped (--skip)")
elif ! command -v node >/dev/null; then
    notes+=("node: skipped, node not found (Debian: nodejs)")
else
    engines+=(node)
fi
if skipped wasm2c; then
    notes+=("wasm2c: skipped (--skip)")
elif [ ! -x "$out/wasm2c/${workloads[0]}" ]; then
    notes+=("wasm2c: skipped, build.sh built no wasm2c binaries (see its output)")
else
    engines+=(wasm2c)
fi
for i in "${!extra_names[@]}"; do
    if skipped "${extra_names[$i]}"; then
        notes+=("${extra_names[$i]}: skipped (--skip)")
    else
        engines+=("${extra_names[$i]}")
    fi
done
interp=()
if skipped wasm-interp; then
    notes+=("wasm-interp: skipped (--skip)")
elif [ -x "$out/tools/wabt-wasi" ]; then
    interp=("$out/tools/wabt-wasi")
    notes+=("wasm-interp: Debian's wasm-interp has no WASI; wabt's interpreter runs through build.sh's wabt-wasi (libwabt)")
    engines+=(wasm-interp)
elif ! command -v wasm-interp >/dev/null; then
    notes+=("wasm-interp: skipped, wasm-interp not found (Debian: wabt)")
elif [[ $(timeout 60 wasm-interp --wasi "$out/wasm/${workloads[0]}.wasm" -- 1 2>&1 </dev/null || true) == *"wasi support not compiled in"* ]]; then
    notes+=("wasm-interp: skipped, it has no WASI and build.sh could not build wabt-wasi (see its output)")
else
    interp=(wasm-interp --wasi)
    engines+=(wasm-interp)
fi

# engine_cmd ENGINE WORKLOAD ARG: sets cmd, the command line of one run.
engine_cmd() {
    local e=$1 w=$2 arg=$3 i
    case $e in
    native) cmd=("$out/native/$w" "$arg") ;;
    wasmbox) cmd=("$wasmbox" run --interp "$out/wasm/$w.wasm" "$arg") ;;
    wasmbox-aot) cmd=(env WASMBOX_CACHE_DIR="$aot_cache" "$wasmbox" run --aot "$out/wasm/$w.wasm" "$arg") ;;
    node) cmd=(node --no-warnings "$bench/node-wasi.mjs" "$out/wasm/$w.wasm" "$arg") ;;
    wasm2c) cmd=("$out/wasm2c/$w" "$arg") ;;
    wasm-interp)
        if [ "${interp[0]}" = wasm-interp ]; then
            cmd=("${interp[@]}" "$out/wasm/$w.wasm" -- "$arg")
        else
            cmd=("${interp[@]}" "$out/wasm/$w.wasm" "$arg")
        fi
        ;;
    *)
        for i in "${!extra_names[@]}"; do
            if [ "${extra_names[$i]}" = "$e" ]; then
                cmd=("${extra_paths[$i]}" "$out/wasm/$w.wasm" "$arg")
                return
            fi
        done
        die "internal: unknown engine $e"
        ;;
    esac
}

# ---- running -----------------------------------------------------------------
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tsv=$out/results.tsv
printf 'workload\tengine\tinput\trun\tseconds\n' >"$tsv"

now() {
    if [ -n "${EPOCHREALTIME:-}" ]; then
        echo "$EPOCHREALTIME"
    else
        date +%s.%N
    fi
}

# median of the arguments
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
        END { if (NR % 2) printf "%.6f", v[(NR + 1) / 2];
              else printf "%.6f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

declare -A result # "w|engine|input" -> median seconds, or ERR
errors=()

# measure WORKLOAD ENGINE INPUT(full|small): runs it $runs times, checks each
# output against native's, records the median in result[].
measure() {
    local w=$1 e=$2 input=$3 arg times=() r t0 t1 status key=$1\|$2\|$3
    arg=$([ "$input" = small ] && echo "${small_arg[$w]}" || echo "${full_arg[$w]}")
    engine_cmd "$e" "$w" "$arg"
    for ((r = 1; r <= runs; r++)); do
        t0=$(now)
        if timeout "$timeout_s" "${cmd[@]}" >"$tmp/out" 2>"$tmp/err" </dev/null; then
            status=0
        else
            status=$?
        fi
        t1=$(now)
        if [ "$status" -ne 0 ]; then
            local why="exit status $status"
            [ "$status" -ne 124 ] || why="timed out after ${timeout_s}s"
            errors+=("$w/$e ($input input): $why: $(head -c 300 "$tmp/err" | tr '\n' ' ')")
            result[$key]=ERR
            echo "run.sh: $w $e: FAILED ($why)" >&2
            return
        fi
        if [ "$e" = native ] && [ "$r" -eq 1 ]; then
            cp "$tmp/out" "$tmp/expect.$w.$input"
        elif ! cmp -s "$tmp/out" "$tmp/expect.$w.$input"; then
            errors+=("$w/$e ($input input): checksum mismatch: expected '$(head -c 200 "$tmp/expect.$w.$input" | tr '\n' ' ')', got '$(head -c 200 "$tmp/out" | tr '\n' ' ')'")
            result[$key]=ERR
            echo "run.sh: $w $e: CHECKSUM MISMATCH" >&2
            return
        fi
        times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')")
        printf '%s\t%s\t%s\t%d\t%s\n' "$w" "$e" "$input" "$r" "${times[-1]}" >>"$tsv"
    done
    result[$key]=$(median "${times[@]}")
    printf 'run.sh: %-10s %-12s %-5s median %9.3f s of %d run(s)\n' "$w" "$e" "$input" "${result[$key]}" "$runs" >&2
}

main_input=$([ "$small" -eq 1 ] && echo small || echo full)
has_interp=0
for e in "${engines[@]}"; do
    [ "$e" != wasm-interp ] || has_interp=1
done
echo "run.sh: ${#workloads[@]} workload(s), engines: ${engines[*]}; $runs run(s) each, $main_input inputs" >&2
for w in "${workloads[@]}"; do
    # native first: its output is the reference every other run must print
    measure "$w" native "$main_input"
    [ "${result[$w|native|$main_input]}" != ERR ] || continue
    # wasm-interp only runs small inputs: time native and wasmbox on them
    # too, so that its ratios compare like with like
    if [ "$has_interp" -eq 1 ] && [ "$small" -eq 0 ]; then
        measure "$w" native small
        [ "${result[$w|native|small]}" != ERR ] || continue
        measure "$w" wasmbox small
    fi
    for e in "${engines[@]}"; do
        case $e in
        native) ;;
        wasm-interp) measure "$w" "$e" small ;;
        *) measure "$w" "$e" "$main_input" ;;
        esac
    done
done

# ---- the tables --------------------------------------------------------------
# cell W ENGINE: the engine's main median for W ("" when not run)
cell() {
    local input=$main_input
    [ "$2" != wasm-interp ] || input=small
    echo "${result[$1|$2|$input]:-}"
}

# ratio A B: A / B as "%.2f", or ERR / -
ratio() {
    if [ "$1" = ERR ] || [ "$2" = ERR ]; then
        echo ERR
    elif [ -z "$1" ] || [ -z "$2" ]; then
        echo -
    else
        awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'
    fi
}

# geomean VALUES...: geometric mean of the numeric ones, "*" appended when
# some were missing or failed
geomean() {
    printf '%s\n' "$@" | awk '
        /^[0-9.]+$/ && $1 > 0 { s += log($1); n++; next } { bad++ }
        END { if (n == 0) { print "-"; exit }
              printf "%.2f%s", exp(s / n), bad ? "?" : "" }'
}

label() {
    if [ "$1" = wasm-interp ] && [ "$small" -eq 0 ]; then
        echo "wasm-interp*"
    else
        echo "$1"
    fi
}

report() {
    local e w row vals
    echo
    if [ "$small" -eq 1 ]; then
        echo "Smoke run: the small inputs, $runs run(s); the times below are not measurements."
    else
        echo "wasmbox benchmark: median of $runs run(s), full inputs; seconds (lower is better)"
    fi
    echo "wasmbox: $wasmbox"
    for n in "${notes[@]+"${notes[@]}"}"; do
        echo "note: $n"
    done
    echo
    printf '%-10s' workload
    for e in "${engines[@]}"; do printf ' %13s' "$(label "$e")"; done
    echo
    for w in "${workloads[@]}"; do
        printf '%-10s' "$w"
        for e in "${engines[@]}"; do
            vals=$(cell "$w" "$e")
            if [ "$vals" = ERR ] || [ -z "$vals" ]; then
                printf ' %13s' "${vals:--}"
            else
                printf ' %13.3f' "$vals"
            fi
        done
        echo
    done
    [ "$small" -eq 1 ] && return

    echo
    echo "engine / native (how many times slower than gcc -O2; geomean last)"
    printf '%-10s' workload
    for e in "${engines[@]}"; do
        [ "$e" = native ] || printf ' %13s' "$(label "$e")"
    done
    echo
    declare -A col
    for w in "${workloads[@]}"; do
        printf '%-10s' "$w"
        for e in "${engines[@]}"; do
            [ "$e" != native ] || continue
            if [ "$e" = wasm-interp ]; then
                row=$(ratio "$(cell "$w" "$e")" "${result[$w|native|small]:-}")
            else
                row=$(ratio "$(cell "$w" "$e")" "$(cell "$w" native)")
            fi
            col[$e]="${col[$e]:-} $row"
            printf ' %13s' "$row"
        done
        echo
    done
    printf '%-10s' geomean
    for e in "${engines[@]}"; do
        # shellcheck disable=SC2086
        [ "$e" = native ] || printf ' %13s' "$(geomean ${col[$e]})"
    done
    echo

    local subject
    for subject in wasmbox wasmbox-aot; do
    [[ " ${engines[*]} " == *" $subject "* ]] || continue
    local peers=()
    for e in "${engines[@]}"; do
        [ "$e" = native ] || [ "$e" = wasmbox ] || [ "$e" = wasmbox-aot ] || peers+=("$e")
    done
    if [ "$subject" = wasmbox-aot ]; then
        local p2=()
        for e in "${peers[@]+"${peers[@]}"}"; do [ "$e" = wasm-interp ] || p2+=("$e"); done
        peers=("${p2[@]+"${p2[@]}"}")
    fi
    if [ ${#peers[@]} -gt 0 ]; then
        echo
        echo "$subject / peer (below 1: $subject is faster; geomean last)"
        printf '%-10s' workload
        for e in "${peers[@]}"; do printf ' %13s' "$(label "$e")"; done
        echo
        declare -A pcol
        for w in "${workloads[@]}"; do
            printf '%-10s' "$w"
            for e in "${peers[@]}"; do
                if [ "$e" = wasm-interp ]; then
                    row=$(ratio "${result[$w|wasmbox|small]:-}" "$(cell "$w" "$e")")
                else
                    row=$(ratio "$(cell "$w" "$subject")" "$(cell "$w" "$e")")
                fi
                pcol[$e]="${pcol[$e]:-} $row"
                printf ' %13s' "$row"
            done
            echo
        done
        printf '%-10s' geomean
        for e in "${peers[@]}"; do
            # shellcheck disable=SC2086
            printf ' %13s' "$(geomean ${pcol[$e]})"
        done
        echo
        unset pcol
    fi
    done
    echo
    if [ "$has_interp" -eq 1 ]; then
        echo "* wasm-interp runs the small inputs only; its ratios compare it with native and wasmbox on those inputs."
    fi
    echo "ERR: the run failed or printed a wrong checksum (see the errors below); -: not run."
    echo "A '?' after a geomean: some workloads failed or did not run and are left out of it."
}

report | tee "$out/results.txt"

if [ ${#errors[@]} -gt 0 ]; then
    echo
    echo "run.sh: ${#errors[@]} error(s):"
    for e in "${errors[@]}"; do
        echo "  $e"
    done
    exit 1
fi
echo
echo "run.sh: all checksums match native ($(wc -l <"$tsv" | awk '{ print $1 - 1 }') timed runs; raw times in $tsv)"
