"""Joins the reads simulated per genome (OUT/NAME.seq, one sequence a line) into one shuffled
mix: OUT/mix.fa (reads r0000001...) and OUT/mix.tsv (read_id, genome). The Badread and PBSIM
mix scripts share it, so their mixes are shuffled and named alike.

    python3 scripts/shuffle_mix.py OUT NAME[:SHARE] ...
"""
import random
import sys

out, names = sys.argv[1], [s.split(':')[0] for s in sys.argv[2:]]
reads = [(line.strip(), n) for n in sorted(names) for line in open(f'{out}/{n}.seq')]
random.Random(5).shuffle(reads)
with open(f'{out}/mix.fa', 'w') as fa, open(f'{out}/mix.tsv', 'w') as tsv:
    tsv.write('read_id\tspecies\n')
    for k, (seq, n) in enumerate(reads):
        fa.write(f'>r{k + 1:07d}\n{seq}\n')
        tsv.write(f'r{k + 1:07d}\t{n}\n')
print(out, len(reads), 'reads')
