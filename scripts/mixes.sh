#!/usr/bin/env bash
# The README's simulated mixes, made again and scored: the defaults, the latent alone
# (--kmer-share 0) and no VAE (--map-input kmers) over several seeds, as mean ARI (range) / F1.
#
#   scripts/mixes.sh DIR [MIXES] [SEEDS] [PATHS]
#   scripts/mixes.sh /tmp/mixes "F S J" "42 1 2" "default kmers"
#
# DIR holds the generated reads (30 000 reads are ~150 MB) and one run folder per mix, path and
# seed; runs already there are not redone. MIXES: any of dev E F R S T U V (default all). The
# recipes of mixes G, H, I and J were not written down in full when they were made, and the
# PBSIM and Badread mixes (P1-P5, B1, B2) need those simulators and other strains: not here.
# S. suis SC84 (mixes R to V) comes from Debian's abacas-examples package, fetched with
# `apt-get download` when DIR has no copy. Needs python3 for the table. Recipes: README, the
# sessions that made each mix.
set -euo pipefail
dir=${1:?usage: scripts/mixes.sh DIR [MIXES] [SEEDS] [PATHS]}
mixes=${2:-dev E F R S T U V}
seeds=${3:-42 1 2}
paths=${4:-default latent kmers}
root=$(cd "$(dirname "$0")/.." && pwd)
refs=$root/../shared/data/refs
data=$root/../shared/data
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
bin=${BINSCAPE:-$root/target/release/binscape}
[ -x "$bin" ] || (cd "$root" && cargo build --release --bin binscape)

E=$refs/Ecoli_536.fa.gz K=$refs/Kpneumoniae_NTUH-K2044.fa.gz SA=$refs/Saureus_NCTC8325.fa.gz
MT=$refs/Mtuberculosis_H37Rv.fa.gz HP=$refs/Hpylori_F32.fa.gz L=$refs/lambda.fa.gz
SS=$dir/Ssuis_SC84.fa.gz

ssuis() {
    [ -s "$SS" ] && return
    local tmp
    tmp=$(mktemp -d)
    (cd "$tmp" && apt-get download abacas-examples >/dev/null &&
        dpkg -x abacas-examples_*.deb x &&
        cp x/usr/share/doc/abacas-examples/SS_SC84.dna.gz "$SS")
    rm -rf "$tmp"
}

# The ten-genome recipe of mixes E and F (6 references, 4 made-up relatives at drift 0.5).
ten=(--genome "$E:20" --genome "$K:15" --genome "$SA:12" --genome "$MT:10" --genome "$HP:8"
    --genome "$L:3" --relative "$E:10:0.5" --relative "$K:8:0.5" --relative "$SA:8:0.5"
    --relative "$MT:6:0.5" --identity-sd 0.03)

make_mix() {
    local m=$1 out=$dir/$1.fa
    [ -s "$out" ] && return
    local args
    case $m in
    E) args=("${ten[@]}" --identity 0.90 --reads 30000 --model clr --seed 21) ;;
    F) args=("${ten[@]}" --identity 0.90 --reads 5000 --model ont --seed 22) ;;
    R | S | T | U | V) ssuis ;;&
    R) args=(--genome "$E:22" --genome "$K:18" --genome "$SA:12" --genome "$MT:15"
        --genome "$HP:10" --genome "$SS:20" --genome "$L:3" --identity 0.90 --identity-sd 0.03
        --reads 30000 --model clr --seed 71) ;;
    S) args=(--genome "$E:22" --genome "$K:18" --genome "$SA:12" --genome "$MT:15"
        --genome "$HP:10" --genome "$SS:20" --genome "$L:3" --identity 0.90 --identity-sd 0.03
        --reads 5000 --model ont --seed 72) ;;
    T) args=(--genome "$E:8" --genome "$K:25" --genome "$SA:15" --genome "$MT:20"
        --genome "$HP:12" --genome "$SS:15" --genome "$L:5" --identity 0.88 --identity-sd 0.03
        --reads 20000 --model ont --seed 81) ;;
    U) args=(--genome "$E:3" --genome "$K:20" --genome "$SA:18" --genome "$SS:4"
        --genome "$MT:15" --genome "$HP:10" --genome "$L:2" --relative "$K:8:0.55"
        --relative "$SA:6:0.6" --identity 0.90 --identity-sd 0.03 --reads 20000 --model clr
        --seed 91) ;;
    V) args=(--genome "$E:20" --genome "$K:3" --genome "$SA:4" --genome "$SS:16"
        --genome "$MT:12" --genome "$HP:15" --genome "$L:3" --relative "$E:10:0.5"
        --relative "$MT:5:0.6" --identity 0.89 --identity-sd 0.03 --reads 10000 --model ont
        --seed 92) ;;
    *) echo "unknown mix $m" >&2 && exit 2 ;;
    esac
    "$bin" simulate "${args[@]}" --out "$out" --labels "$dir/$m.tsv"
}

for m in $mixes; do
    if [ "$m" = dev ]; then
        reads=$data/dev_long.fastq labels=$data/dev_long.labels.tsv
    else
        make_mix "$m"
        reads=$dir/$m.fa labels=$dir/$m.tsv
    fi
    for p in $paths; do
        case $p in
        default) extra=() ;;
        latent) extra=(--kmer-share 0) ;;
        kmers) extra=(--map-input kmers) ;;
        *) echo "unknown path $p" >&2 && exit 2 ;;
        esac
        for s in $seeds; do
            out=$dir/runs/$m.$p.$s
            [ -s "$out/report.json" ] && continue
            "$bin" run "$reads" --labels "$labels" --out "$out" --seed "$s" "${extra[@]}" \
                >/dev/null 2>"$dir/runs.log" || { cat "$dir/runs.log" >&2; exit 1; }
        done
    done
done

python3 - "$dir/runs" "$mixes" "$seeds" "$paths" <<'EOF'
import json, sys
runs, mixes, seeds, paths = sys.argv[1], sys.argv[2].split(), sys.argv[3].split(), sys.argv[4].split()
print("| mix | " + " | ".join(paths) + " |")
print("| --- " * (len(paths) + 1) + "|")
means = {p: [] for p in paths}
for m in mixes:
    cells = []
    for p in paths:
        sc = [json.load(open(f"{runs}/{m}.{p}.{s}/report.json"))["scores"] for s in seeds]
        ari = [x["ari"] for x in sc]
        f1 = sum(x["f1"] for x in sc) / len(sc)
        mean = sum(ari) / len(ari)
        means[p].extend(ari)
        cells.append(f"{mean:.3f} ({min(ari):.3f}–{max(ari):.3f}) / {f1:.3f}")
    print(f"| {m} | " + " | ".join(cells) + " |")
print("| mean ARI | " + " | ".join(f"{sum(v) / len(v):.4f}" for v in means.values()) + " |")
EOF
