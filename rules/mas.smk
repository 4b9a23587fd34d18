# Monotonic Alignment Search: compile the Cython kernel in place (OpenMP where the compiler has it).


rule build_mas:
    input:
        source="monotonic_align/core.pyx",
        build="monotonic_align/build.py",
    output:
        stamp=MAS_STAMP,
    params:
        config=view(),
    log:
        "logs/build_mas.log",
    benchmark:
        "logs/build_mas.benchmark.tsv"
    conda:
        ENV
    threads: 1
    script:
        "../scripts/build_mas.py"
