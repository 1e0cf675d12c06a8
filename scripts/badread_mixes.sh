#!/usr/bin/env bash
# Mixes of real genomes not in ../shared/data/refs (other strains, and V. cholerae), simulated
# with Badread (another simulator than binscape's own), as the README's session 21 made them:
#
#   scripts/badread_mixes.sh DIR [MIXES]        # MIXES: any of B1 B3 (default both)
#
# Writes DIR/MIX/mix.fa and DIR/MIX/mix.tsv (read_id, genome). Needs `badread` on PATH (0.4.2:
# github.com/rrwick/Badread, pip-installed with edlib, numpy and scipy), python3, and Debian's
# apt-get to fetch the genomes (scripts/genomes.sh). B1 follows the recipe of session 18's B1
# (not the same reads: other Badread seeds); B3 is new. Each genome is simulated on its own
# (quantity = share x reads x mean length), then the reads are shuffled.
set -euo pipefail
dir=${1:?usage: scripts/badread_mixes.sh DIR [MIXES]}
mixes=${2:-B1 B3}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$dir/genomes"
dir=$(cd "$dir" && pwd)
g=$dir/genomes

# simulate NAME MODEL IDENTITY LENGTH READS SEED "genome:share ..."
simulate() {
    local name=$1 model=$2 identity=$3 length=$4 reads=$5 seed=$6 shares=$7
    local out=$dir/$name
    [ -s "$out/mix.tsv" ] && return
    mkdir -p "$out"
    local i=0
    for gs in $shares; do
        local gn=${gs%:*} share=${gs#*:}
        i=$((i + 1))
        badread simulate --reference "$g/$gn.fa" \
            --quantity $((reads * share / 100 * ${length%,*})) --length "$length" \
            --identity "$identity" --error_model "$model" --qscore_model "$model" \
            --seed $((seed + i)) --junk_reads 0 --random_reads 0 --chimeras 1 2>/dev/null |
            awk 'NR % 4 == 2' >"$out/$gn.seq"
    done
    python3 "$root/scripts/shuffle_mix.py" "$out" $shares
    rm -f "$out"/*.seq
}

"$root/scripts/genomes.sh" "$g"
for m in $mixes; do
    case $m in
    B1) simulate B1 nanopore2023 90,97,4 6000,5000 5300 100 \
        "ec:21 sa:21 kp:20 mt:13 ss:12 hp:10 la:3" ;;
    B3) simulate B3 nanopore2020 90,97,4 5000,4000 5000 300 \
        "ec2:18 vc:15 kp2:13 sa2:13 mt:15 ss:12 hp2:11 la:3" ;;
    *) echo "unknown mix $m" >&2 && exit 2 ;;
    esac
done
