"""Benchmark the training loop on CPU: demo-size throughput, loop overhead, step phases.

    python benchmarks/bench_train.py --out benchmarks/results/train.json [--quick] [--threads 2]

1. Throughput: a demo feature store (config/config.yaml, fewer clips) is built in a temp dir
   (demo corpus -> prepare_corpus -> prepare_split -> compute_shard -> gather_shards, as
   tests/train/conftest.py does) and the real ``glowtts.train.train(cfg, paths)`` runs 40
   steps (12 with --quick; num_workers 0; validation and checkpoint only at the end). The
   benchmark process monkeypatches ``_Trainer._step`` (and ``_validate``,
   ``_save_checkpoint``, ...) with timing wrappers: each step's own ``step_time_s`` /
   ``frames_per_s`` metrics, the wall time around the call, and the gap between steps (the
   DataLoader's collate and the logging).
2. Overhead of the loop over the bare model step, at demo size (a real ``_Trainer`` on the
   store's batches) and at base size (config/ljspeech.yaml's model, B = 8 LJSpeech-like
   synthetic batch as in bench_model.py, a ``_Trainer`` assembled from the pieces its
   constructor builds). Bare step = zero_grad + forward + losses + backward +
   clip_grad_value_ + Adam; loop step = ``_Trainer._step`` itself. The two alternate (ABBA)
   on the same model, optimizer and batches, so drift of the shared machine cancels out; the
   extra work is also timed piece by piece (many repeats), which is far less noisy.
3. Phases of a demo step: data (next batch from the DataLoader: store reads + collate),
   forward without MAS, MAS, backward, optimizer (clip_by_value + Adam + Noam), taken by a
   step that mirrors ``_Trainer._step`` with timers between the phases. MAS time comes from a
   wrapper around ``glowtts.align.maximum_path`` (patched in this process only; the model
   looks it up on the module at each forward).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import json
import logging
import math
import os
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch

import glowtts.align
from glowtts.config import Config, load
from glowtts.data.dataset import Batch, collate
from glowtts.data.demo import generate_demo_corpus
from glowtts.data.features import compute_shard, gather_shards
from glowtts.data.manifest import read_manifest
from glowtts.data.prepare import prepare_corpus, prepare_split
from glowtts.model import GlowTTS, glowtts_losses
from glowtts.train.distributed import DistEnv, all_reduce_sum
from glowtts.train.loop import (
    TrainPaths,
    _Progress,
    _Trainer,
    clip_by_value,
    train,
)
from glowtts.train.schedule import noam_scheduler

REPO = Path(__file__).resolve().parents[1]
N_VOCAB_BASE, N_MELS = 149, 80
SKIP_FIRST = 3  # steps left out of the steady-state figures (allocator and oneDNN warm-up)


# ----------------------------------------------------------------------------- helpers


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _machine(threads: int) -> dict[str, Any]:
    return {
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch_threads": threads,
        "torch_interop_threads": torch.get_num_interop_threads(),
        "mkldnn": torch.backends.mkldnn.is_available(),
        "cuda": torch.cuda.is_available(),
    }


class MasTimer:
    """Wraps ``glowtts.align.maximum_path`` while active; sums the seconds of its calls."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0

    def take(self) -> float:
        """Seconds since the last take (and reset)."""
        s, self.seconds = self.seconds, 0.0
        return s

    @contextlib.contextmanager
    def active(self) -> Iterator[MasTimer]:
        original = glowtts.align.maximum_path

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> torch.Tensor:
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - t0
                self.calls += 1

        glowtts.align.maximum_path = timed  # type: ignore[assignment]
        try:
            yield self
        finally:
            glowtts.align.maximum_path = original  # type: ignore[assignment]


@contextlib.contextmanager
def _patched(cls: type, name: str, wrapper: Callable[..., Any]) -> Iterator[None]:
    original = getattr(cls, name)
    setattr(cls, name, wrapper(original))
    try:
        yield
    finally:
        setattr(cls, name, original)


# ----------------------------------------------------------------------------- demo store


def demo_config(n_clips: int, steps: int) -> Config:
    """config/config.yaml with ``n_clips`` demo clips and a run of ``steps`` steps."""
    cfg = load(REPO / "config/config.yaml")
    demo = dataclasses.replace(cfg.dataset.demo, n_clips=n_clips)
    tc = dataclasses.replace(
        cfg.train,
        steps=steps,
        num_workers=0,
        device="cpu",
        validate_every=10 * steps,  # only the final validation and checkpoint
        checkpoint_every=10 * steps,
    )
    return dataclasses.replace(cfg, dataset=dataclasses.replace(cfg.dataset, demo=demo), train=tc)


def build_demo_store(cfg: Config, root: Path) -> dict[str, Any]:
    """Corpus, filelists and feature store (train + val rows) under ``root``; timings."""
    t0 = time.perf_counter()
    generate_demo_corpus(root / "corpus", cfg.dataset.demo, cfg.audio, cfg.seed)
    t1 = time.perf_counter()
    prepare_corpus(cfg, root / "corpus", root / "metadata.tsv", root / "report.json")
    lists = {s: root / f"{s}.tsv" for s in ("train", "val", "test")}
    prepare_split(cfg, root / "metadata.tsv", dict(lists))
    rows = [u for s in ("train", "val") for u in read_manifest(lists[s])]
    t2 = time.perf_counter()
    compute_shard(rows, cfg, root / "shard.npz")
    gather_shards([root / "shard.npz"], root / "store", cfg)
    t3 = time.perf_counter()
    return {
        "clips": cfg.dataset.demo.n_clips,
        "train_clips": len(read_manifest(lists["train"])),
        "val_clips": len(read_manifest(lists["val"])),
        "corpus_s": round(t1 - t0, 2),
        "prepare_s": round(t2 - t1, 2),
        "features_s": round(t3 - t2, 2),
    }


def demo_paths(root: Path) -> TrainPaths:
    return TrainPaths(
        store=root / "store",
        train_list=root / "train.tsv",
        val_list=root / "val.tsv",
        folder=root / "train",
        output=root / "train" / "glowtts.pt",
    )


# ----------------------------------------------------------------------------- 1. train()


def run_training(cfg: Config, paths: TrainPaths, mas: MasTimer) -> dict[str, Any]:
    """The real ``train(cfg, paths)``, with timing wrappers on the trainer's methods."""
    steps: list[dict[str, Any]] = []
    phases: dict[str, float] = {}
    last_end: list[float | None] = [None]

    def step_wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(self: _Trainer, model: torch.nn.Module, batch: Batch) -> Any:
            mas.take()
            t0 = time.perf_counter()
            metrics = original(self, model, batch)
            t1 = time.perf_counter()
            if metrics is not None:
                steps.append(
                    {
                        "wall_s": t1 - t0,
                        # the DataLoader's batch + logging since the previous step
                        "gap_before_s": None if last_end[0] is None else t0 - last_end[0],
                        "step_time_s": metrics["step_time_s"],
                        "frames": metrics["frames_per_s"] * metrics["step_time_s"],
                        "frames_per_s": metrics["frames_per_s"],
                        "mas_s": mas.take(),
                        "batch": batch.x.size(0),
                        "T_y": batch.y.size(2),
                    }
                )
            last_end[0] = t1
            return metrics

        return wrapped

    def phase_wrapper(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
            def wrapped(self: _Trainer, *args: Any, **kwargs: Any) -> Any:
                t0 = time.perf_counter()
                try:
                    return original(self, *args, **kwargs)
                finally:
                    phases[name] = phases.get(name, 0.0) + time.perf_counter() - t0

            return wrapped

        return wrap

    shutil.rmtree(paths.folder, ignore_errors=True)
    with contextlib.ExitStack() as stack:
        stack.enter_context(_patched(_Trainer, "_step", step_wrapper))
        for name in ("__init__", "_resume_or_initialise", "_validate", "_save_checkpoint"):
            stack.enter_context(_patched(_Trainer, name, phase_wrapper(name)))
        stack.enter_context(_patched(_Trainer, "_write_output", phase_wrapper("_write_output")))
        t0 = time.perf_counter()
        train(cfg, paths)
        total = time.perf_counter() - t0

    steady = steps[SKIP_FIRST:]
    frames = sum(s["frames"] for s in steady)
    step_s = sum(s["step_time_s"] for s in steady)
    loop_s = sum(s["wall_s"] + s["gap_before_s"] for s in steady)
    all_frames = sum(s["frames"] for s in steps)
    return {
        "steps": len(steps),
        "steady_steps": len(steady),
        "total_call_s": total,
        "call_phases_s": phases,
        "median_step_time_s": _median([s["step_time_s"] for s in steady]),
        "median_frames_per_s": _median([s["frames_per_s"] for s in steady]),
        "steady_frames_per_s_in_steps": frames / step_s,
        "steady_frames_per_s_with_data": frames / loop_s,
        "median_gap_between_steps_s": _median([s["gap_before_s"] for s in steady]),
        "median_mas_s": _median([s["mas_s"] for s in steady]),
        "mas_share_of_step": sum(s["mas_s"] for s in steady) / step_s,
        "frames_per_step_mean": frames / len(steady),
        "end_to_end_frames_per_s": all_frames / total,
        "per_step": [{k: v if v is None else round(v, 5) for k, v in s.items()} for s in steps],
    }


# ----------------------------------------------------------------------------- 2. overhead


def _bare_step(model: GlowTTS, opt: torch.optim.Optimizer, batch: Batch, clip: float) -> None:
    """bench_model.py's step: forward + losses + backward + clip by value + Adam."""
    opt.zero_grad(set_to_none=True)
    out = model(batch.x, batch.x_lengths, batch.y, batch.y_lengths)
    losses = glowtts_losses(out)
    losses.total.backward()
    torch.nn.utils.clip_grad_value_(model.parameters(), clip)
    opt.step()


def trainer_from_pieces(cfg: Config, model: GlowTTS) -> _Trainer:
    """A ``_Trainer`` holding what ``_step`` reads, built as its constructor builds it.

    No feature store is needed. Should ``_step`` read another attribute, this fails with an
    AttributeError: add it here as ``_Trainer.__init__`` sets it.
    """
    t = _Trainer.__new__(_Trainer)
    env = DistEnv(rank=0, local_rank=0, world_size=1, device=torch.device("cpu"))
    t.cfg, t.tc, t.env, t.device = cfg, cfg.train, env, env.device
    t.raw = model
    t.optimizer = torch.optim.Adam(
        model.parameters(), lr=t.tc.learning_rate, betas=t.tc.betas, eps=t.tc.eps
    )
    t.scheduler = noam_scheduler(
        t.optimizer, d_model=cfg.model.hidden_channels, warmup_steps=t.tc.warmup_steps
    )
    t.scaler = torch.amp.GradScaler("cpu", enabled=t.tc.precision == "fp16")
    t.progress = _Progress()
    t.last_losses = []
    return t


def _repeat(fn: Callable[[], Any], n: int) -> float:
    """Median seconds of ``fn`` over ``n`` calls (after one untimed call)."""
    fn()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def extra_work(trainer: _Trainer, batch: Batch, repeats: int) -> dict[str, float]:
    """Seconds of what ``_step`` does beyond the bare step, piece by piece.

    Needs gradients in place (call after a step). Clipping is repeated on the same
    gradients (already within the clip, so the work is the same as in a step).
    """
    params = list(trainer.raw.parameters())
    clip, env = trainer.tc.grad_clip_value, trainer.env
    dummy = torch.nn.Parameter(torch.zeros(1))  # LambdaLR's cost does not depend on params
    dummy.grad = torch.zeros(1)
    scratch = torch.optim.Adam([dummy], lr=trainer.tc.learning_rate)
    sched = noam_scheduler(scratch, d_model=64, warmup_steps=400)
    scratch.step()  # so that LambdaLR does not warn about the order
    scaler = trainer.scaler
    sqz = trainer.raw.n_sqz

    norm = torch.ones(())

    def counts() -> None:  # forward_backward's global counts, the reduce stubs, _step's sync
        frames = torch.div(batch.y_lengths, sqz, rounding_mode="floor") * sqz
        c = all_reduce_sum(torch.stack([frames.sum() * N_MELS, batch.x_lengths.sum()]).float(), env)
        local = torch.stack([norm - 0.9, norm])
        total = all_reduce_sum(local, env)
        torch.stack([total[0] + 0.9, total[1], norm.float(), c[0]]).tolist()

    def scaler_calls() -> None:  # disabled GradScaler: unscale_ and update are no-ops
        scaler.unscale_(trainer.optimizer)
        scaler.update()

    def check_and_metrics() -> None:
        mle, dur, norm = 1.0, 0.5, 3.0
        assert math.isfinite(mle) and math.isfinite(dur) and math.isfinite(norm)
        lr = trainer.optimizer.param_groups[0]["lr"]
        _ = [f"step 1 mle={mle:.4g} duration={dur:.4g}"]
        _ = {"loss/mle": mle, "lr": lr, "padding/mel": batch.frame_padding}

    pieces = {
        "clip_by_value_s": _repeat(lambda: clip_by_value(params, clip), repeats),
        "clip_grad_value_s": _repeat(
            lambda: torch.nn.utils.clip_grad_value_(params, clip), repeats
        ),
        "scheduler_step_s": _repeat(sched.step, repeats),
        "counts_and_reduce_stubs_s": _repeat(counts, repeats),
        "scaler_noops_s": _repeat(scaler_calls, repeats),
        "check_and_metrics_s": _repeat(check_and_metrics, repeats),
    }
    pieces["total_extra_s"] = (
        pieces["clip_by_value_s"]
        - pieces["clip_grad_value_s"]
        + pieces["scheduler_step_s"]
        + pieces["counts_and_reduce_stubs_s"]
        + pieces["scaler_noops_s"]
        + pieces["check_and_metrics_s"]
    )
    return pieces


def overhead(
    trainer: _Trainer, batches: list[Batch], warmup: int, rounds: int, repeats: int
) -> dict[str, Any]:
    """Bare step vs ``_Trainer._step``, alternating ABBA on the same model and batches."""
    model, opt, clip = trainer.raw, trainer.optimizer, trainer.tc.grad_clip_value
    model.train()
    wall: dict[str, list[float]] = {"bare": [], "loop": []}
    cpu: dict[str, list[float]] = {"bare": [], "loop": []}
    pairs: list[float] = []

    def one(kind: str, batch: Batch) -> tuple[float, float]:
        c0, t0 = time.process_time(), time.perf_counter()
        if kind == "bare":
            _bare_step(model, opt, batch, clip)
        else:
            assert trainer._step(model, batch) is not None, "a skipped (non-finite) step"
        return time.perf_counter() - t0, time.process_time() - c0

    for i in range(warmup + rounds):
        batch = batches[i % len(batches)]
        order = ("bare", "loop") if i % 2 == 0 else ("loop", "bare")
        got = {kind: one(kind, batch) for kind in order}
        if i >= warmup:
            for kind in ("bare", "loop"):
                wall[kind].append(got[kind][0])
                cpu[kind].append(got[kind][1])
            pairs.append(got["loop"][0] / got["bare"][0] - 1.0)
    pieces = extra_work(trainer, batches[0], repeats)
    bare_med = _median(wall["bare"])
    return {
        "rounds": rounds,
        "warmup_rounds": warmup,
        "bare_step_median_s": bare_med,
        "loop_step_median_s": _median(wall["loop"]),
        "overhead_of_medians_pct": 100 * (_median(wall["loop"]) / bare_med - 1.0),
        "overhead_median_of_pairs_pct": 100 * _median(pairs),
        "overhead_of_minima_pct": 100 * (min(wall["loop"]) / min(wall["bare"]) - 1.0),
        "overhead_of_cpu_time_medians_pct": 100
        * (_median(cpu["loop"]) / _median(cpu["bare"]) - 1.0),
        "pair_overheads_pct": [round(100 * p, 2) for p in pairs],
        "bare_steps_s": [round(t, 4) for t in wall["bare"]],
        "loop_steps_s": [round(t, 4) for t in wall["loop"]],
        "bare_steps_cpu_s": [round(t, 4) for t in cpu["bare"]],
        "loop_steps_cpu_s": [round(t, 4) for t in cpu["loop"]],
        "extra_work": pieces,
        "extra_work_pct_of_bare_step": 100 * pieces["total_extra_s"] / bare_med,
    }


def adam_variants(model: torch.nn.Module, repeats: int) -> dict[str, Any]:
    """Milliseconds of one Adam step, for-loop (torch's CPU default) vs foreach.

    Runs on the model's current gradients and changes its weights: call it last.
    """
    params = [q for q in model.parameters() if q.grad is not None]
    out: dict[str, Any] = {"param_tensors": len(params)}
    for foreach in (False, True):
        opt = torch.optim.Adam(params, lr=1e-6, betas=(0.9, 0.98), eps=1e-9, foreach=foreach)
        out[f"foreach_{str(foreach).lower()}_ms"] = 1000 * _repeat(opt.step, repeats)
    return out


def lj_like_batch(B: int, seed: int = 0) -> Batch:
    """bench_model.py's batch: text 100-345 tokens, mel 300-870 frames spread over B."""
    g = torch.Generator().manual_seed(seed)
    x_lens = torch.linspace(100, 345, B).round().long().tolist()
    y_lens = torch.linspace(300, 870, B).round().long().tolist()
    items = [
        (
            torch.randint(1, N_VOCAB_BASE, (tx,), generator=g),
            torch.randn(N_MELS, ty, generator=g) * 2.0 - 5.0,
        )
        for tx, ty in zip(x_lens, y_lens, strict=True)
    ]
    return collate(items)


def base_overhead(warmup: int, rounds: int, repeats: int) -> dict[str, Any]:
    cfg = load(REPO / "config/ljspeech.yaml")
    torch.manual_seed(0)
    model = GlowTTS(cfg.model, N_VOCAB_BASE, N_MELS)
    batch = lj_like_batch(8)
    model.data_dependent_init(batch.y, batch.y_lengths)
    trainer = trainer_from_pieces(cfg, model)
    result = overhead(trainer, [batch], warmup, rounds, repeats)
    result["params"] = sum(p.numel() for p in model.parameters())
    result["batch"] = {"B": 8, "T_x": batch.x.size(1), "T_y": batch.y.size(2)}
    result["frames_per_s_loop"] = batch.valid_frames / result["loop_step_median_s"]
    result["adam_step"] = adam_variants(model, 5)
    return result


# ----------------------------------------------------------------------------- 3. phases


def phase_split(trainer: _Trainer, mas: MasTimer, steps: int) -> dict[str, Any]:
    """``_step``'s work with timers between phases; data = the DataLoader's next batch."""
    model, opt, tc = trainer.raw, trainer.optimizer, trainer.tc
    model.train()
    rows: dict[str, list[float]] = {
        k: [] for k in ("data", "forward_excl_mas", "mas", "backward", "optimizer", "total")
    }
    epoch = 0
    it: Iterator[Batch] = iter(())
    for i in range(steps + 1):
        t0 = time.perf_counter()
        batch = next(it, None)
        if batch is None:
            trainer.sampler.set_epoch(epoch)
            epoch += 1
            it = iter(trainer.loader)
            batch = next(it)
        t1 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        sqz = model.n_sqz
        frames = torch.div(batch.y_lengths, sqz, rounding_mode="floor") * sqz
        counts = all_reduce_sum(
            torch.stack([frames.sum() * N_MELS, batch.x_lengths.sum()]).float(), trainer.env
        )
        mas.take()
        out = model(batch.x, batch.x_lengths, batch.y, batch.y_lengths)
        losses = glowtts_losses(out, n_values=counts[0], n_tokens=counts[1])
        t2 = time.perf_counter()
        mas_s = mas.take()
        losses.total.backward()
        total = all_reduce_sum(
            torch.stack([losses.mle.detach(), losses.duration.detach()]), trainer.env
        )
        t3 = time.perf_counter()
        norm = clip_by_value(model.parameters(), tc.grad_clip_value)
        torch.stack([total[0], total[1], norm.float(), counts[0]]).tolist()  # _step's sync
        opt.step()
        trainer.scheduler.step()
        t4 = time.perf_counter()
        if i == 0:  # warm-up
            continue
        rows["data"].append(t1 - t0)
        rows["forward_excl_mas"].append(t2 - t1 - mas_s)
        rows["mas"].append(mas_s)
        rows["backward"].append(t3 - t2)
        rows["optimizer"].append(t4 - t3)
        rows["total"].append(t4 - t0)
    med = {k: _median(v) for k, v in rows.items()}
    mean_total = statistics.fmean(rows["total"])
    share = {k: 100 * statistics.fmean(v) / mean_total for k, v in rows.items() if k != "total"}
    return {"steps": steps, "median_s": med, "share_of_mean_step_pct": share}


# ----------------------------------------------------------------------------- main

METHOD = {
    "demo_train": (
        "real glowtts.train.train(cfg, paths) on a temp demo store; _Trainer._step wrapped "
        "(monkeypatched in this process) to collect each step's own step_time_s and "
        "frames_per_s metrics; steady = all steps but the first 3; the final validation and "
        "checkpoint are outside the steps (call_phases_s)"
    ),
    "overhead": (
        "bare step (zero_grad, forward, glowtts_losses, backward, clip_grad_value_, Adam) vs "
        "_Trainer._step, alternating ABBA on the same model, optimizer and batches; the A/B "
        "wall-time figures carry the shared machine's noise (several %), so the loop's extra "
        "work is also timed piece by piece (median of many repeats): global grad norm in "
        "clip_by_value, Noam scheduler step, count/all_reduce stubs and .tolist(), disabled "
        "GradScaler calls, non-finite check and metrics dict"
    ),
    "phases": (
        "a step mirroring _Trainer._step with timers: data = next() on the trainer's "
        "DataLoader (num_workers 0: store reads + collate), forward = model forward + losses "
        "minus MAS, MAS = time inside glowtts.align.maximum_path (wrapped), backward, "
        "optimizer = clip_by_value + Adam + scheduler"
    ),
}


def summary(r: dict[str, Any]) -> dict[str, Any]:
    """The headline figures, rounded."""
    t, ph = r["demo_train"], r["demo_phases"]
    return {
        "torch_threads": r["machine"]["torch_threads"],
        "demo_median_step_s": round(t["median_step_time_s"], 3),
        "demo_median_frames_per_s": round(t["median_frames_per_s"]),
        "demo_steady_frames_per_s_with_data": round(t["steady_frames_per_s_with_data"]),
        "demo_end_to_end_frames_per_s": round(t["end_to_end_frames_per_s"]),
        "demo_overhead_extra_work_pct": round(r["demo_overhead"]["extra_work_pct_of_bare_step"], 2),
        "demo_overhead_ab_median_of_pairs_pct": round(
            r["demo_overhead"]["overhead_median_of_pairs_pct"], 1
        ),
        "base_overhead_extra_work_pct": round(r["base_overhead"]["extra_work_pct_of_bare_step"], 2),
        "base_overhead_ab_median_of_pairs_pct": round(
            r["base_overhead"]["overhead_median_of_pairs_pct"], 1
        ),
        "base_loop_step_median_s": round(r["base_overhead"]["loop_step_median_s"], 2),
        "demo_phase_share_pct": {k: round(v, 1) for k, v in ph["share_of_mean_step_pct"].items()},
        "method": METHOD,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--quick", action="store_true", help="a short run (a smoke test)")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    parser.add_argument("--clips", type=int, default=120, help="demo clips generated")
    parser.add_argument("--note", default="", help="free text stored with the results")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.WARNING)
    q = args.quick
    train_steps = 12 if q else 40
    demo_rounds, base_rounds, phase_steps = (4, 1, 4) if q else (30, 8, 20)
    repeats = 5 if q else 30

    started = time.perf_counter()
    results: dict[str, Any] = {
        "machine": _machine(args.threads),
        "load_avg_before": os.getloadavg(),
        "shared_machine": (
            "the 2 cores are shared with other work (another engineer's builds and tests); the "
            "load averages before/after say how busy they were, so absolute times vary"
        ),
        "quick": q,
        "note": args.note,
    }
    mas = MasTimer()
    with tempfile.TemporaryDirectory(prefix="bench_train_") as tmp, mas.active():
        root = Path(tmp)
        cfg = demo_config(args.clips, train_steps)
        results["demo_store"] = build_demo_store(cfg, root)
        paths = demo_paths(root)
        results["demo_model"] = {"batch_size": cfg.train.batch_size}

        print("1. train() at demo size ...", flush=True)
        results["demo_train"] = run_training(cfg, paths, mas)

        print("2. overhead at demo size ...", flush=True)
        env = DistEnv(rank=0, local_rank=0, world_size=1, device=torch.device("cpu"))
        shutil.rmtree(paths.folder, ignore_errors=True)
        trainer = _Trainer(cfg, paths, env)
        trainer._data_dependent_init()
        results["demo_model"]["params"] = sum(p.numel() for p in trainer.raw.parameters())
        trainer.sampler.set_epoch(0)
        batches = list(trainer.loader)
        results["demo_overhead"] = overhead(trainer, batches, 2, demo_rounds, repeats)

        print("3. phases at demo size ...", flush=True)
        results["demo_phases"] = phase_split(trainer, mas, phase_steps)
        results["demo_phases"]["adam_step"] = adam_variants(trainer.raw, repeats)

    print("2b. overhead at base size ...", flush=True)
    with mas.active():
        results["base_overhead"] = base_overhead(1, base_rounds, max(3, repeats // 3))
    results["gpu"] = {"status": "not yet measured (no CUDA device here)"}
    results["summary"] = summary(results)
    results["load_avg_after"] = os.getloadavg()
    results["wall_s"] = time.perf_counter() - started

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    short = {
        k: v
        for k, v in results["demo_train"].items()
        if k not in ("per_step",) and not isinstance(v, list)
    }
    print(json.dumps(short, indent=2))
    for key in ("demo_overhead", "base_overhead"):
        r = results[key]
        print(
            key,
            json.dumps(
                {k: r[k] for k in r if not isinstance(r[k], list) and k != "extra_work"},
                indent=1,
            ),
        )
        print(" extra", json.dumps(r["extra_work"], indent=1))
    print(json.dumps(results["demo_phases"], indent=2))
    print(f"wall {results['wall_s']:.0f} s, load {results['load_avg_after']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
