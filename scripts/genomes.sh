#!/usr/bin/env bash
# The genomes of the Badread and PBSIM mixes, into DIR (one FASTA each): the project's
# ../shared/data/refs E. coli 536, M. tuberculosis H37Rv and lambda, and other strains and
# species from the Debian packages that ship them as example data (sibelia-examples,
# kleborate-examples, ragout-examples, abacas-examples), fetched with apt-get download.
#
#   scripts/genomes.sh DIR
set -euo pipefail
g=${1:?usage: scripts/genomes.sh DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
refs=$root/../shared/data/refs
mkdir -p "$g"
[ -s "$g/vc.fa" ] && exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download sibelia-examples kleborate-examples ragout-examples \
    abacas-examples >/dev/null && for d in *.deb; do dpkg -x "$d" x; done)
x=$tmp/x/usr/share/doc
sib=$x/sibelia/examples rag=$x/ragout/examples kle=$x/kleborate/examples/data
zcat "$refs/Ecoli_536.fa.gz" >"$g/ec.fa"
zcat "$refs/Mtuberculosis_H37Rv.fa.gz" >"$g/mt.fa"
zcat "$refs/lambda.fa.gz" >"$g/la.fa"
xzcat "$kle/MGH78578.fna.xz" >"$g/kp.fa"
xzcat "$kle/Klebs_Kp1084.fna.xz" >"$g/kp2.fa"
zcat "$sib/C-Sibelia/Staphylococcus_aureus/RN4220.fasta.gz" >"$g/sa.fa"
zcat "$sib/Sibelia/Helicobacter_pylori/Helicobacter_pylori.fasta.gz" |
    awk '/^>/{p=/Gambia/} p' >"$g/hp.fa"
zcat "$rag/E.Coli/references/MG1655-K12.fasta.gz" >"$g/ec2.fa"
zcat "$rag/V.Cholerae/references/O395.fasta.gz" >"$g/vc.fa"
zcat "$rag/S.Aureus/references/COL.fasta.gz" >"$g/sa2.fa"
zcat "$rag/H.Pylori/references/G27.fasta.gz" >"$g/hp2.fa"
zcat "$x/abacas-examples/SS_SC84.dna.gz" >"$g/ss.fa"
