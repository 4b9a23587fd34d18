# Training: torchrun launches 1..N processes per node on 1..N nodes; one code path (glowtts.train).
#
# The store and the MAS kernel are ancient() inputs: rebuilding them with other shards or
# flags gives the same features, so it must not retrain. What decides the features is in
# params instead (seed, audio, text, features.dtype, on_rate_mismatch), and the filelists are
# ordinary inputs: a changed corpus or split reruns the split, and so training.

TRAIN_VIEW = view(
    "seed",
    "model",
    "train",
    "audio",
    "text",
    "features.dtype",
    "dataset.on_rate_mismatch",
)


rule train:
    input:
        train=f"{OUT}/filelists/train.tsv",
        val=f"{OUT}/filelists/val.tsv",
        store=ancient(f"{OUT}/features/store"),
        mas=ancient(MAS_STAMP),
        **init_from_input(),
    output:
        checkpoint=f"{OUT}/train/glowtts.pt",
    params:
        config=TRAIN_VIEW,
        config_json=json.dumps(TRAIN_VIEW, sort_keys=True),
        folder=lambda wildcards, output: os.path.dirname(output.checkpoint),
        checkout=workflow.basedir,  # this checkout's glowtts, installed or not (as scripts/ do)
    log:
        f"{LOGS}/train.log",
    benchmark:
        f"{BENCH}/train.tsv"
    conda:
        ENV
    threads: 64  # capped by --cores (or the cluster's cpus_per_task)
    resources:
        nodes=1,  # > 1: tasks=nodes and mpi="srun" (one torchrun per node), c10d rendezvous
        nproc_per_node=1,  # processes per node: the GPUs per node, or 1 on a CPU
        mpi="",  # "srun" on SLURM (profiles/slurm)
    shell:
        """
        if [ {resources.nodes} -gt 1 ]; then
            if [ -z "{resources.mpi}" ]; then
                echo "train: nodes={resources.nodes} needs resources mpi=srun and tasks={resources.nodes} (one torchrun per node); see profiles/slurm/config.yaml" >&2
                exit 1
            fi
            # the job step may not see SLURM_JOB_NODELIST: ask Slurm for the job's nodes
            nodes=$(scontrol show job "${{SLURM_JOB_ID}}" | awk '{{for (i = 1; i <= NF; i++) if ($i ~ /^NodeList=/) {{sub(/^NodeList=/, "", $i); print $i; exit}}}}')
            head=$(scontrol show hostnames "$nodes" | awk 'NR == 1')
            if [ -z "$head" ]; then
                echo "train: cannot find the first node of job ${{SLURM_JOB_ID}} (scontrol show job)" >&2
                exit 1
            fi
            port=$(( 20000 + ${{SLURM_JOB_ID}} % 20000 ))  # two jobs on one head node differ
            prefix="{resources.mpi} --nodes={resources.nodes} --ntasks={resources.nodes} --ntasks-per-node=1 --cpus-per-task={threads}"
            launch="--nnodes {resources.nodes} --rdzv_backend c10d --rdzv_endpoint $head:$port --rdzv_id ${{SLURM_JOB_ID}}"
        else
            prefix=""
            launch="--standalone --nnodes 1"
        fi
        export PYTHONPATH={params.checkout:q}${{PYTHONPATH:+:$PYTHONPATH}}
        export OMP_NUM_THREADS=$(( {threads} / {resources.nproc_per_node} > 0 ? {threads} / {resources.nproc_per_node} : 1 ))
        $prefix torchrun $launch --nproc_per_node {resources.nproc_per_node} \
            -m glowtts.train --params-json {params.config_json:q} \
            --store {input.store:q} --train-list {input.train:q} --val-list {input.val:q} \
            --folder {params.folder:q} --output {output.checkpoint:q} > {log:q} 2>&1 || {{
            status=$?
            # torchrun ends the log with its own traceback: repeat the first error last
            first=$(grep -m 1 " ERROR " {log:q} || true)
            if [ -n "$first" ]; then echo "$first" >> {log:q}; fi
            exit $status
        }}
        """
