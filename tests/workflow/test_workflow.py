"""The real Snakefile on a tiny config: lint, dry run, the data stages, reruns of one stage."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from glowtts.data.manifest import read_manifest

REPO = Path(__file__).resolve().parents[2]
WORKFLOW_PARTS = [
    "Snakefile",
    "rules",
    "scripts",
    "config",
    "envs",
    "profiles",
    "report",
    ".test",
    "glowtts",
    "monotonic_align",
]
TEST_CONFIG = ".test/config.yaml"
SPLIT_NAMES = ("train", "val", "test")

pytestmark = pytest.mark.xdist_group("workflow")  # one worker runs these, one after another


def _copy_workflow(dest: Path) -> Path:
    """A clean copy of the workflow, as a fresh clone has it (no results, no build outputs)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.so", "*.c", "build.json", "build", "results")
    for part in WORKFLOW_PARTS:
        src = REPO / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=ignore, symlinks=True)
        else:
            shutil.copy2(src, dest / part)
    return dest


def snakemake(
    workdir: Path, *args: str, check: bool = True, cores: str | None = "2"
) -> subprocess.CompletedProcess[str]:
    """Run Snakemake in ``workdir`` (with ``--cores``, unless None: the args give them)."""
    env = {**os.environ, "PYTHONPATH": str(workdir)}
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", *(["--cores", cores] if cores else []), *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def workflow(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _copy_workflow(tmp_path_factory.mktemp("wf"))


def test_lint_is_clean(workflow: Path) -> None:
    proc = snakemake(workflow, "--lint")
    assert "Congratulations, your workflow is in a good condition" in proc.stdout + proc.stderr


def test_dry_run_of_the_whole_default_dag(workflow: Path) -> None:
    proc = snakemake(workflow, "-n", "--quiet", "rules")
    assert _jobs(proc) == {
        "resolved_config": 1,
        "demo_corpus": 1,
        "corpus": 1,
        "split": 1,
        "features_shard": 2,
        "features": 1,
        "build_mas": 1,
        "train": 1,
        "evaluate": 1,
    }, proc.stdout


def test_dry_run_of_the_ljspeech_preset_downloads(workflow: Path) -> None:
    proc = snakemake(workflow, "-n", "--quiet", "rules", "--configfile", "config/ljspeech.yaml")
    jobs = _jobs(proc)
    assert jobs["download_ljspeech"] == 1 and jobs["extract_ljspeech"] == 1
    assert jobs["features_shard"] == 16 and "demo_corpus" not in jobs


@pytest.mark.parametrize("cores", ["1", "3"])
def test_the_jobs_do_not_depend_on_cores(workflow: Path, cores: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--quiet", "rules", "--cores", cores],
        cwd=workflow,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert _jobs(proc)["features_shard"] == 2


def test_slurm_profile_is_accepted_by_the_executor_plugin(workflow: Path) -> None:
    """The profile as a cluster user runs it (no --cores), through the real plugin, as a dry run."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "-n",
            "--quiet",
            "rules",
            "--profile",
            "profiles/slurm",
            "--configfile",
            "config/ljspeech.yaml",
        ],
        cwd=workflow,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _jobs(proc)["features_shard"] == 16


def test_slurm_profile_asks_for_the_training_gpus_and_nodes(workflow: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--profile", "profiles/slurm",
         "--configfile", "config/ljspeech.yaml"],
        cwd=workflow, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout + proc.stderr
    block = out[out.index("rule train:") :]
    resources = next(line for line in block.splitlines() if "resources:" in line)
    for wanted in ("gres=gpu:4", "nproc_per_node=4", "nodes=1", "tasks_per_gpu=0"):
        assert wanted in resources, resources
    assert "torchrun $launch --nproc_per_node 4" in block


@pytest.mark.parametrize("nodes", [1, 2])
def test_slurm_plugin_accepts_the_training_job(repo_root: Path, nodes: int) -> None:
    """The submit command the pinned SLURM plugin builds from the profile's train resources
    (one node as shipped; two nodes as the README says to set them)."""
    from types import SimpleNamespace

    import yaml
    from snakemake_executor_plugin_slurm.submit_string import get_submit_command
    from snakemake_executor_plugin_slurm.utils import set_gres_string

    profile = yaml.safe_load((repo_root / "profiles/slurm/config.yaml").read_text())
    resources = dict(profile["default-resources"]) | profile["set-resources"]["train"]
    if nodes > 1:
        resources |= {"nodes": nodes, "tasks": nodes, "mpi": "srun"}

    class _Resources(dict):  # the plugin reads resources as attributes and with .get
        __getattr__ = dict.__getitem__

    job = SimpleNamespace(resources=_Resources(resources), threads=profile["set-threads"]["train"])
    params = {"run_uuid": "u", "slurm_logfile": "l", "comment_str": "c", "account": "-A a"}
    params |= {"partition": "-p gpu", "workdir": "/w"}
    call = get_submit_command(job, params) + set_gres_string(job)
    assert "--gres=gpu:4" in call and f"--nodes={nodes}" in call and "--ntasks-per-gpu" not in call
    assert "--cpus-per-task=32" in call and "--ntasks-per-node=1" in call
    if nodes > 1:
        assert f"--ntasks={nodes}" in call


def test_no_rule_reads_the_resolved_config(workflow: Path) -> None:
    """The resolved config is for people; rules get their values through params."""
    proc = snakemake(workflow, "--dag")
    nodes = dict(re.findall(r"\t(\d+)\[label = \"(\w+)", proc.stdout))
    edges = re.findall(r"\t(\d+) -> (\d+)", proc.stdout)
    assert "resolved_config" in nodes.values() and edges
    readers = {nodes[b] for a, b in edges if nodes[a] == "resolved_config"}
    assert readers == {"all"}, readers


def test_nested_config_values_from_the_command_line(workflow: Path) -> None:
    ok = snakemake(
        workflow,
        "-n",
        "--quiet",
        "rules",
        "--config",
        "model={hidden_channels: 48, window_size: null}",
    )
    assert _jobs(ok)["train"] == 1
    bad = snakemake(workflow, "-n", "--config", "model={hidden_channels: wide}", check=False)
    assert bad.returncode != 0
    assert "model.hidden_channels: 'wide' has type str, expected integer" in bad.stdout + bad.stderr
    flat = snakemake(workflow, "-n", "--config", "model=48", check=False)
    assert flat.returncode != 0
    assert "--config 'model={key: value}'" in flat.stdout + flat.stderr


def test_the_checkpoint_a_fine_tuning_starts_from_is_an_input(
    workflow: Path, tmp_path: Path
) -> None:
    start = tmp_path / "voice.pt"
    missing = snakemake(workflow, "-n", "--config", f"train={{init_from: '{start}'}}", check=False)
    assert missing.returncode != 0 and str(start) in missing.stdout + missing.stderr
    start.write_bytes(b"a checkpoint")  # the DAG only needs the file; training reads it
    plan = _jobs(
        snakemake(workflow, "-n", "--quiet", "rules", "--config", f"train={{init_from: '{start}'}}")
    )
    assert plan["train"] == 1
    folder = tmp_path / "myvoice"
    (folder / "wavs").mkdir(parents=True)
    (folder / "metadata.csv").write_text("a1|Hello there.|Hello there.\n")
    # The preset as the README runs it, once the converted checkpoint and its dictionary exist.
    (workflow / "cmu_dictionary").write_text("HELLO  HH AH0 L OW1\n")
    had_results = (workflow / "results").exists()
    pretrained = workflow / "results/pretrained/glowtts.pt"
    pretrained.parent.mkdir(parents=True)
    pretrained.write_bytes(b"a checkpoint")
    try:
        preset = snakemake(
            workflow, "-n", "--configfile", "config/ljspeech.yaml", "config/folder.yaml",
            "config/finetune.yaml", "--config", f"dataset={{folder: {{path: '{folder}'}}}}",
        )  # fmt: skip
    finally:
        shutil.rmtree(pretrained.parent if had_results else workflow / "results")
        (workflow / "cmu_dictionary").unlink()
    block = preset.stdout[preset.stdout.index("rule train:") :]
    assert "results/pretrained/glowtts.pt" in block.split("output:")[0]  # an input of train


def test_invalid_config_fails_before_any_job(workflow: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: {hiden_channels: 3, n_heads: 'two'}\n")
    proc = snakemake(workflow, "-n", "--configfile", str(bad), check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "the workflow config: invalid configuration (2 problem(s))" in out
    assert "model: unknown key(s) ['hiden_channels']; allowed keys are" in out
    assert "model.n_heads: 'two' has type str, expected integer" in out
    assert not (workflow / "results").exists()


def test_missing_user_folder_is_named_at_parse_time(workflow: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "mine.yaml"
    cfg.write_text(f"dataset: {{kind: folder, folder: {{path: '{tmp_path / 'nowhere'}'}}}}\n")
    proc = snakemake(workflow, "-n", "--configfile", str(cfg), check=False)
    assert proc.returncode != 0
    assert f"{tmp_path / 'nowhere'}: no metadata.csv found" in proc.stdout + proc.stderr


@pytest.mark.slow
def test_data_and_feature_stages_run_and_rerun_only_what_changed(workflow: Path) -> None:
    from glowtts.data.store import FeatureStore

    store_dir = "results/test/features/store"
    snakemake(workflow, store_dir, "--configfile", TEST_CONFIG)
    lists = {
        s: read_manifest(workflow / f"results/test/filelists/{s}.tsv")
        for s in ("train", "val", "test")
    }
    assert [len(lists[s]) for s in ("train", "val", "test")] == [16, 4, 4]
    report = json.loads((workflow / "results/test/corpus/report.json").read_text())
    assert report["kept"] == 24 and report["unknown_characters"] == {}
    store = FeatureStore(workflow / store_dir)
    assert sorted(store.ids) == sorted(u.id for rows in lists.values() for u in rows)
    for rule in ("demo_corpus", "corpus", "split", "features", "features_shard/1-of-2"):
        assert (workflow / f"results/test/logs/{rule}.log").stat().st_size > 0
        assert (workflow / f"results/test/benchmarks/{rule}.tsv").is_file()

    # Nothing to do on a second run.
    proc = snakemake(workflow, store_dir, "--configfile", TEST_CONFIG)
    assert "Nothing to be done" in proc.stdout + proc.stderr

    # Editing the split section reruns the split and what reads it, not the corpus.
    (workflow / "split.yaml").write_text("split: {val_size: 3}\n")
    proc = snakemake(
        workflow, store_dir, "-n", "--quiet", "rules", "--configfile", TEST_CONFIG, "split.yaml"
    )
    assert _jobs(proc) == {"split": 1, "features_shard": 2, "features": 1}, proc.stdout

    # --forcerun of one stage reruns it and what depends on it, not the corpus generation.
    proc = snakemake(
        workflow,
        store_dir,
        "--forcerun",
        "corpus",
        "-n",
        "--quiet",
        "rules",
        "--configfile",
        TEST_CONFIG,
    )
    assert _jobs(proc) == {"corpus": 1, "split": 1, "features_shard": 2, "features": 1}

    # A run interrupted before the gather, with one shard unfinished: only that shard is
    # recomputed (byte for byte), then the store is gathered.
    shard = workflow / "results/test/features/shards/2-of-2.npz"
    before = shard.read_bytes()
    shard.unlink()
    shutil.rmtree(workflow / store_dir)
    proc = snakemake(workflow, store_dir, "-n", "--quiet", "rules", "--configfile", TEST_CONFIG)
    assert _jobs(proc) == {"features_shard": 1, "features": 1}
    snakemake(workflow, store_dir, "--configfile", TEST_CONFIG)
    assert shard.read_bytes() == before


def _jobs(proc: subprocess.CompletedProcess[str]) -> dict[str, int]:
    """Rule -> job count from a dry run's job stats table (lines 'rule count')."""
    counts: dict[str, int] = {}
    for line in (proc.stdout + proc.stderr).splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[1].isdigit() and fields[0] not in ("total", "job", "all"):
            counts.setdefault(fields[0], int(fields[1]))
    return counts


@pytest.mark.slow
def test_a_users_folder_corpus_by_one_config_value(workflow: Path, tmp_path: Path) -> None:
    from glowtts.config import AudioConfig, DemoConfig
    from glowtts.data.demo import generate_demo_corpus

    folder = tmp_path / "my_voice"
    generate_demo_corpus(folder, DemoConfig(n_clips=10), AudioConfig(), seed=5)
    cfg = tmp_path / "mine.yaml"
    cfg.write_text(
        f"run: mine\ndataset: {{kind: folder, folder: {{path: '{folder}'}}}}\n"
        "split: {val_size: 2, test_size: 2}\n"
    )
    snakemake(workflow, "results/mine/filelists/train.tsv", "--configfile", str(cfg))
    rows = read_manifest(workflow / "results/mine/filelists/train.tsv")
    assert len(rows) == 6 and all(str(r.wav).startswith(str(folder)) for r in rows)


@pytest.mark.slow
def test_broken_corpus_fails_with_the_named_problem_in_the_log(
    workflow: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "broken"
    (folder / "wavs").mkdir(parents=True)
    (folder / "metadata.csv").write_text("x1|Hello.\n")
    cfg = tmp_path / "broken.yaml"
    cfg.write_text(f"run: broken\ndataset: {{kind: folder, folder: {{path: '{folder}'}}}}\n")
    proc = snakemake(
        workflow, "results/broken/corpus/metadata.tsv", "--configfile", str(cfg), check=False
    )
    assert proc.returncode != 0
    log = (workflow / "results/broken/logs/corpus.log").read_text()
    assert f"{folder}/metadata.csv:1: wav for 'x1' not found" in log
    assert "Traceback" not in log
    assert not (workflow / "results/broken/corpus/metadata.tsv").exists()


@pytest.mark.slow
def test_ljspeech_preset_downloads_extracts_and_splits_from_a_local_server(
    workflow: Path, tmp_path: Path, make_ljspeech_archive: Callable[..., bytes]
) -> None:
    """The real download and extract rules, against an HTTP server on 127.0.0.1."""
    import functools
    import hashlib
    import http.server
    import threading

    serve = tmp_path / "www"
    serve.mkdir()
    payload = make_ljspeech_archive(serve / "LJSpeech-1.1.tar.bz2", n=12)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(serve))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        cfg = tmp_path / "local_lj.yaml"
        url = f"http://127.0.0.1:{httpd.server_address[1]}/LJSpeech-1.1.tar.bz2"
        cfg.write_text(
            "run: lj\n"
            f"dataset: {{ljspeech: {{url: '{url}', sha256: {hashlib.sha256(payload).hexdigest()}, "
            f"size_bytes: {len(payload)}, retries: 1}}}}\n"
            "split: {train_size: 8, val_size: 2, test_size: 2}\n"
        )
        target = "results/lj/filelists/train.tsv"
        snakemake(workflow, target, "--configfile", "config/ljspeech.yaml", str(cfg))
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert (workflow / "resources/ljspeech/LJSpeech-1.1.tar.bz2").read_bytes() == payload
    rows = read_manifest(workflow / target)
    assert len(rows) == 8 and all(r.id.startswith("LJ001-") for r in rows)
    assert (workflow / "resources/ljspeech/logs/download.log").is_file()


def _readme_command(prefix: str) -> list[str]:
    """The README's command line that starts with ``prefix``, split as a shell would."""
    import shlex

    for line in (REPO / "README.md").read_text().splitlines():
        if line.strip().startswith(prefix):
            return shlex.split(line.strip())
    raise AssertionError(f"README.md has no command starting with {prefix!r}")


FOLDER_COMMAND = "snakemake --cores all --configfile config/ljspeech.yaml config/folder.yaml"


def _run_readme_folder_command(
    workflow: Path, folder: Path, *extra: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    command = _readme_command(FOLDER_COMMAND)
    command = [c.replace("/data/myvoice", str(folder)) for c in command]
    assert command[0] == "snakemake"
    return snakemake(workflow, *extra, *command[1:], check=check, cores=None)


@pytest.mark.slow
def test_the_readme_own_voice_command_on_a_50_clip_folder(workflow: Path, tmp_path: Path) -> None:
    """The README's command, as written, on a 50-clip folder at 16 kHz (resampled); then a
    changed, an added and a removed wav each rerun the corpus stage and what follows."""
    import soundfile as sf

    from glowtts.config import AudioConfig, DemoConfig
    from glowtts.data.demo import generate_demo_corpus

    folder = tmp_path / "myvoice"
    generate_demo_corpus(folder, DemoConfig(n_clips=50), AudioConfig(sample_rate=16000), seed=7)
    store = "results/myvoice/features/store"
    _run_readme_folder_command(workflow, folder, store)
    lists = {s: read_manifest(workflow / f"results/myvoice/filelists/{s}.tsv") for s in SPLIT_NAMES}
    assert [len(lists[s]) for s in SPLIT_NAMES] == [47, 1, 2]  # train = the rest
    report = json.loads((workflow / "results/myvoice/corpus/report.json").read_text())
    assert report["kept"] == 50 and report["resampled"] == 50
    shards = sorted(p.name for p in (workflow / "results/myvoice/features/shards").iterdir())
    assert shards == ["1-of-1.npz"]  # 50 clips: one feature job
    # The whole DAG would train the base model: only its plan is checked here.
    plan = _jobs(_run_readme_folder_command(workflow, folder, "-n", "--quiet", "rules"))
    assert plan.get("train") == 1 and "corpus" not in plan, plan

    unchanged = _run_readme_folder_command(workflow, folder, store, "-n")
    assert "Nothing to be done" in unchanged.stdout + unchanged.stderr

    wav = folder / "wavs" / f"{lists['train'][0].id}.wav"
    data, rate = sf.read(wav)
    time.sleep(0.01)
    sf.write(wav, data[: len(data) // 2], rate)  # a trimmed clip: new contents, same name
    plan = _jobs(_run_readme_folder_command(workflow, folder, store, "-n", "--quiet", "rules"))
    assert plan == {"corpus": 1, "split": 1, "features_shard": 1, "features": 1}, plan
    _run_readme_folder_command(workflow, folder, store)

    wav.unlink()  # removed (and its row): the corpus is read again
    meta = folder / "metadata.csv"
    meta.write_text(
        "".join(
            r
            for r in meta.read_text().splitlines(keepends=True)
            if not r.startswith(wav.stem + "|")
        )
    )
    plan = _jobs(_run_readme_folder_command(workflow, folder, store, "-n", "--quiet", "rules"))
    assert plan.get("corpus") == 1, plan


@pytest.mark.slow
def test_the_readme_own_voice_command_plans_lj_speech_scale(workflow: Path, tmp_path: Path) -> None:
    """13,100 rows: 16 feature shards planned (the dry run reads only metadata.csv)."""
    folder = tmp_path / "big"
    (folder / "wavs").mkdir(parents=True)
    (folder / "metadata.csv").write_text(
        "".join(f"LJ{i:06d}|Some text {i}.|Some text {i}.\n" for i in range(13_100))
    )
    jobs = _jobs(_run_readme_folder_command(workflow, folder, "-n", "--quiet", "rules"))
    assert jobs["features_shard"] == 16 and jobs["corpus"] == 1 and jobs["train"] == 1


@pytest.mark.slow
def test_the_whole_dag_trains_resumes_after_a_kill_and_ignores_shard_edits(
    workflow: Path, tmp_path: Path
) -> None:
    snakemake(workflow, "--configfile", TEST_CONFIG)
    train_dir = workflow / "results/test/train"
    assert (train_dir / "glowtts.pt").is_file()
    assert list((train_dir / "tensorboard").glob("events.out.tfevents.*"))
    log = (workflow / "results/test/logs/train.log").read_text()
    assert "step=4" in log and "validation step=4" in log
    metrics = json.loads((workflow / "results/test/eval/metrics.json").read_text())
    assert metrics["step"] == 4 and metrics["test_utterances"] == 4
    assert "align_mas_frames_exact" in metrics and "mcd_dtw_db" in metrics
    assert len(list((workflow / "results/test/eval/wavs").glob("*.wav"))) == 4 + 4

    # Other feature shards give the same features: training is not rerun.
    (workflow / "shards.yaml").write_text("features: {shards: 3}\n")
    plan = _jobs(
        snakemake(workflow, "-n", "--quiet", "rules", "--configfile", TEST_CONFIG, "shards.yaml")
    )
    assert "train" not in plan and plan["features_shard"] == 3, plan

    # A longer run, killed after its first checkpoint, resumes from it.
    (workflow / "long.yaml").write_text(
        "train: {steps: 400, checkpoint_every: 5, validate_every: 1000, log_every: 50}\n"
    )
    args = [
        sys.executable,
        "-m",
        "snakemake",
        "--cores",
        "2",
        "--configfile",
        TEST_CONFIG,
        "long.yaml",
    ]
    proc = subprocess.Popen(
        args, cwd=workflow, env={**os.environ, "PYTHONPATH": str(workflow)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    ckpts = train_dir / "checkpoints"
    while not list(ckpts.glob("step-0000001[0-9].pt")) and time.monotonic() < deadline:
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (train_dir / "glowtts.pt").exists() or proc.returncode != 0
    (workflow / "long.yaml").write_text(
        "train: {steps: 20, checkpoint_every: 5, validate_every: 1000, log_every: 50}\n"
    )
    rerun = snakemake(workflow, "--configfile", TEST_CONFIG, "long.yaml", check=False)
    if rerun.returncode != 0:  # the killed run's lock: the README says --unlock
        assert "--unlock" in rerun.stdout + rerun.stderr, rerun.stdout + rerun.stderr
        snakemake(workflow, "--unlock", "--configfile", TEST_CONFIG, "long.yaml")
        snakemake(workflow, "--configfile", TEST_CONFIG, "long.yaml")
    log = (workflow / "results/test/logs/train.log").read_text()
    assert re.search(r"resumed from .*step-000000[1-9][0-9]\.pt", log), log


@pytest.mark.slow
def test_synthesis_edits_rerun_only_the_evaluation_and_the_report_holds_it(
    workflow: Path,
) -> None:
    """After the whole DAG ran (previous test): a new noise scale reruns the evaluation (and
    the record of the config), nothing else; the report embeds the metrics and the audio."""
    configs = ["--configfile", TEST_CONFIG, "long.yaml", "noise.yaml"]
    (workflow / "noise.yaml").write_text("synthesis: {noise_scale: 0.3}\n")
    plan = _jobs(snakemake(workflow, "-n", "--quiet", "rules", *configs))
    assert plan == {"evaluate": 1, "resolved_config": 1}, plan
    snakemake(workflow, *configs)
    metrics = json.loads((workflow / "results/test/eval/metrics.json").read_text())
    assert metrics["noise_scale"] == 0.3

    report = workflow / "results/test/report.html"
    snakemake(workflow, "--report", str(report), *configs)
    pages = _report_pages(report.read_text())
    metrics_page = next(p for name, p in pages.items() if name.endswith("metrics.html"))
    assert "mcd_dtw_db" in metrics_page and "align_mas_frames_exact" in metrics_page
    players = sum(p.count("<audio controls") for p in pages.values() if p.startswith("<!DOCTYPE"))
    assert players == 2 * 4 + 4  # 4 test pairs, 4 sentences
    names = " ".join(pages)
    for wanted in ("loss_curves.png", "lengths.png", "data.html", "sentence_01.html"):
        assert wanted in names, (wanted, names)


@pytest.mark.slow
def test_the_export_rule_writes_a_voice_that_onnxruntime_speaks(workflow: Path) -> None:
    """After the whole DAG ran: `snakemake export` exports the trained voice (nothing reruns)."""
    from glowtts.onnx_voice import OnnxVoice

    configs = ["--configfile", TEST_CONFIG, "long.yaml", "noise.yaml"]
    plan = _jobs(snakemake(workflow, "export", "-n", "--quiet", "rules", *configs))
    assert plan == {"export": 1}, plan
    snakemake(workflow, "export", *configs)
    voice = OnnxVoice(workflow / "results/test/export/voice.onnx")
    [result] = voice(["A short test."], seed=1, griffin_lim_iters=4)
    assert result.wav is not None and result.wav.size == result.mel.shape[1] * 256
    assert voice.meta["synthesis"]["noise_scale"] == 0.3  # the run's synthesis: defaults


def _report_pages(text: str) -> dict[str, str]:
    """file name -> content of every item embedded in a Snakemake report (HTML decoded, other
    types as their mime type): items are base64 data URIs that carry their file name."""
    import base64

    items: dict[str, str] = {}
    pattern = r"data:([\w/+.-]+);(?:[^;,\"]*;)*?filename=([^;,\"]+);base64,([A-Za-z0-9+/=]+)"
    for mime, name, payload in re.findall(pattern, text):
        while name in items:  # mels/<id>.png and alignments/<id>.png share a name
            name = f"{name}+"
        if mime == "text/html":
            items[name] = base64.b64decode(payload).decode("utf-8")
        else:
            items[name] = mime
    return items


@pytest.mark.slow
def test_the_train_rule_launches_one_torchrun_per_node_on_slurm(
    workflow: Path, tmp_path: Path
) -> None:
    """The rule's real shell inside a 2-node job, with stand-ins for scontrol, srun and
    torchrun that record their arguments (the SLURM job step hides SLURM_JOB_NODELIST)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls.txt"
    scripts = {
        "scontrol": f"""#!/bin/sh
echo "scontrol $*" >> {calls}
case "$2" in
  job) echo "   JobId=$3 JobName=train"; echo "   NodeList=gpu[07-08] BatchHost=gpu07" ;;
  hostnames) echo gpu07; echo gpu08 ;;
esac
""",
        "srun": f"""#!/bin/sh
echo "srun $*" >> {calls}
while [ "${{1#--}}" != "$1" ]; do shift; done
exec "$@"
""",
        "torchrun": f"""#!/bin/sh
echo "torchrun $*" >> {calls}
while [ "$1" != "--output" ]; do shift; done
mkdir -p "$(dirname "$2")" && echo fake > "$2"
""",
    }
    for name, text in scripts.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "SLURM_JOB_ID": "31337"}
    env.pop("SLURM_JOB_NODELIST", None)
    env["PYTHONPATH"] = str(workflow)
    proc = subprocess.run(
        # the target first: --configfile and --forcerun take every word that follows
        [sys.executable, "-m", "snakemake", "results/test/train/glowtts.pt", "--cores", "2",
         "--configfile", TEST_CONFIG, "--forcerun", "train", "--set-resources", "train:nodes=2", "train:tasks=2", "train:mpi=srun",
         "train:nproc_per_node=4"],
        cwd=workflow, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    recorded = calls.read_text()
    assert (
        "scontrol show job 31337" in recorded and "scontrol show hostnames gpu[07-08]" in recorded
    )
    srun = next(line for line in recorded.splitlines() if line.startswith("srun"))
    assert "--nodes=2 --ntasks=2 --ntasks-per-node=1 --cpus-per-task=2" in srun
    torchrun = next(line for line in recorded.splitlines() if line.startswith("torchrun"))
    assert "--nnodes 2 --rdzv_backend c10d --rdzv_endpoint gpu07:31337" in torchrun
    assert "--rdzv_id 31337 --nproc_per_node 4 -m glowtts.train" in torchrun
    # the fake checkpoint must not stand: rerun the real training for the later tests
    (workflow / "results/test/train/glowtts.pt").unlink()
