"""Rule build_mas: compile the Cython MAS kernel with the job's own Python (conda env or not)."""

from _workflow import start

from monotonic_align.build import build

start(snakemake)
build(snakemake.output.stamp)
