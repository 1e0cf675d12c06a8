#!/usr/bin/env bash
# Mixes of real genomes simulated with PBSIM 1.0.3 (Debian's `pbsim`, its CLR quality model),
# made to look like issue 10's hidden set (a 30 000-read PacBio-CLR-like file and a smaller
# ONT-like one, shares 3-22 %, ~90 % identity), from the genomes of scripts/genomes.sh:
#
#   scripts/pbsim_mixes.sh DIR [MIXES]        # MIXES: any of P6 P7 (default both)
#
# P6: 30 000 reads, accuracy 0.89 +- 0.03, errors sub:ins:del 10:60:30 (CLR-like, insertion-
# heavy); P7: 8 000 reads, 0.88, 35:25:40 (ONT-like, deletion-heavy). Lengths mean 5 kb, sd
# 3.5 kb, from 1 kb. Each genome is simulated on its own at the depth its share asks, then the
# reads are shuffled. Writes DIR/MIX/mix.fa and DIR/MIX/mix.tsv (read_id, genome).
set -euo pipefail
dir=${1:?usage: scripts/pbsim_mixes.sh DIR [MIXES]}
mixes=${2:-P6 P7}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$dir/genomes"
dir=$(cd "$dir" && pwd)
g=$dir/genomes
command -v pbsim >/dev/null || { echo "needs pbsim (apt-get install pbsim)" >&2; exit 2; }
model=/usr/share/pbsim/models/model_qc_clr

# simulate NAME READS ACCURACY RATIO SEED "genome:share ..."
simulate() {
    local name=$1 reads=$2 acc=$3 ratio=$4 seed=$5 shares=$6
    local out=$dir/$name
    [ -s "$out/mix.tsv" ] && return
    mkdir -p "$out/tmp"
    local i=0
    for gs in $shares; do
        local gn=${gs%:*} share=${gs#*:} size depth
        i=$((i + 1))
        size=$(grep -v '>' "$g/$gn.fa" | tr -d '\n' | wc -c)
        depth=$(python3 -c "print(round($reads * $share / 100 * 5000 / $size, 4))")
        (cd "$out/tmp" && pbsim --data-type CLR --depth "$depth" --length-mean 5000 \
            --length-sd 3500 --length-min 1000 --accuracy-mean "$acc" --accuracy-sd 0.03 \
            --difference-ratio "$ratio" --model_qc "$model" --seed $((seed + i)) \
            --prefix "$gn" "$g/$gn.fa" >/dev/null 2>&1)
        cat "$out/tmp/${gn}"_*.fastq | awk 'NR % 4 == 2' >"$out/$gn.seq"
    done
    python3 "$root/scripts/shuffle_mix.py" "$out" $shares
    rm -rf "$out/tmp" "$out"/*.seq
}

"$root/scripts/genomes.sh" "$g"
for m in $mixes; do
    case $m in
    P6) simulate P6 30000 0.89 10:60:30 600 "ec2:19 kp2:16 vc:14 mt:13 sa2:12 ss:11 hp2:10 la:5" ;;
    P7) simulate P7 8000 0.88 35:25:40 700 "kp:22 ec2:6 vc:18 mt:8 sa:16 ss:14 hp2:12 la:4" ;;
    *) echo "unknown mix $m" >&2 && exit 2 ;;
    esac
done
