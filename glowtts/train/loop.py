"""The training loop: one code path for a CPU, one GPU, N GPUs and N nodes (DDP).

Each step reads top to bottom: batch to device -> forward under autocast (MAS scores,
log-determinants and losses in float32) -> backward (scaled for fp16) -> unscale -> global
gradient norm -> skip if non-finite -> clip by value -> Adam -> Noam schedule -> log.

Losses are divided by the counts of the GLOBAL batch (mel values and tokens summed over all
processes), so the gradients DDP averages equal one process's gradients on the whole batch.
The data-dependent ActNorm initialisation runs on rank 0's first batch(es); wrapping the
model in DDP then broadcasts rank 0's parameters to every process. Checkpoints hold all that
decides the next batch and the next random draw, so a resumed run repeats an uninterrupted
one exactly (bit for bit on CPU).
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

from glowtts.checkpoint import (
    Checkpoint,
    CheckpointError,
    UnreadableCheckpointError,
    load_checkpoint,
    model_config_differences,
    save_checkpoint,
)
from glowtts.config import Config, SynthesisConfig, known_fields, to_dict, with_defaults
from glowtts.data.dataset import Batch, TTSDataset, collate
from glowtts.data.sampler import BucketBatchSampler
from glowtts.data.store import META_FILE, FeatureStore
from glowtts.errors import UserError, UserValueError
from glowtts.model.glowtts import HALF_LOG_2PI, GlowTTS
from glowtts.model.losses import LossTotals, glowtts_losses
from glowtts.train.distributed import DistEnv, all_reduce_sum, init_distributed, shutdown
from glowtts.train.observe import TrainingMonitor
from glowtts.train.schedule import noam_scheduler
from glowtts.train.state import (
    capture_rng,
    checkpoint_path,
    list_checkpoints,
    prune_checkpoints,
    remove_stale_temporaries,
    restore_rng,
)

__all__ = ["NonFiniteLossError", "TrainPaths", "clip_by_value", "forward_backward", "train"]

log = logging.getLogger("glowtts.train")

# The validation sample's noise: synthesis.noise_scale's default. Not read from the config, as
# training does not depend on the synthesis settings (editing them must not retrain).
SAMPLE_NOISE_SCALE = SynthesisConfig.noise_scale
SAMPLE_GRIFFIN_LIM_ITERS = 32  # enough to hear the sample in TensorBoard
_AUTOCAST = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


class NonFiniteLossError(UserError):
    """Too many steps in a row had a non-finite loss or gradient."""


@dataclass(frozen=True)
class TrainPaths:
    """Inputs and outputs of a training run.

    Attributes:
        store: the feature store; train_list, val_list: the split's filelists.
        folder: the run's training folder (checkpoints/, tensorboard/).
        output: the final checkpoint later stages read.
    """

    store: Path
    train_list: Path
    val_list: Path
    folder: Path
    output: Path


@dataclass
class _Progress:
    step: int = 0  # optimizer steps applied
    epoch: int = 0
    batches_done: int = 0  # batches of this epoch taken (applied or skipped)
    skipped: int = 0  # steps skipped for a non-finite loss or gradient, in all
    streak: int = 0  # ... in a row, now


def train(cfg: Config, paths: TrainPaths, *, stop_after: int | None = None) -> Path:
    """Train (or resume) and write the final checkpoint to ``paths.output``; return it.

    Args:
        cfg: the config (seed, model, train, audio, text are read).
        paths: see :class:`TrainPaths`.
        stop_after: leave after this step's checkpoint, as a killed run would (tests).
    """
    env = init_distributed(cfg.train.device)
    try:
        return _Trainer(cfg, paths, env).run(stop_after)
    finally:
        shutdown(env)


def forward_backward(
    model: torch.nn.Module,
    batch: Batch,
    env: DistEnv,
    *,
    autocast: Callable[[], contextlib.AbstractContextManager[Any]] = contextlib.nullcontext,
    scaler: torch.amp.GradScaler | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Forward (under ``autocast``), float32 losses over the global batch, backward.

    The losses' denominators are the mel values and tokens summed over every process, and
    the loss is multiplied by the world size before backward, so the gradients DDP averages
    are those of one process on the whole global batch.

    Returns:
        0-dim tensors on the batch's device (no host sync): the MLE and duration losses of
        the global batch, and its number of mel values.
    """
    raw = getattr(model, "_orig_mod", model)  # under torch.compile
    raw = raw.module if isinstance(raw, torch.nn.parallel.DistributedDataParallel) else raw
    assert isinstance(raw, GlowTTS), type(raw)
    sqz, n_mels = raw.n_sqz, raw.n_mels
    frames = torch.div(batch.y_lengths, sqz, rounding_mode="floor") * sqz
    counts = all_reduce_sum(
        torch.stack([frames.sum() * n_mels, batch.x_lengths.sum()]).float(), env
    )  # [2]: mel values and tokens of the global batch
    with autocast():
        out = model(batch.x, batch.x_lengths, batch.y, batch.y_lengths)
    losses = glowtts_losses(out, n_values=counts[0], n_tokens=counts[1])  # float32
    loss = losses.total * env.world_size  # DDP divides the summed gradients by world_size
    (scaler.scale(loss) if scaler is not None else loss).backward()
    local = torch.stack([losses.mle.detach() - HALF_LOG_2PI, losses.duration.detach()])
    total = all_reduce_sum(local, env)  # [2]
    return total[0] + HALF_LOG_2PI, total[1], counts[0]


def clip_by_value(parameters: Iterable[torch.nn.Parameter], clip: float) -> torch.Tensor:
    """Clip every gradient to ``[-clip, clip]``; return the global L2 norm BEFORE clipping."""
    params = [q for q in parameters if q.grad is not None]
    norm = torch.nn.utils.get_total_norm([q.grad for q in params if q.grad is not None])
    torch.nn.utils.clip_grad_value_(params, clip)
    return norm


class _Trainer:
    def __init__(self, cfg: Config, paths: TrainPaths, env: DistEnv) -> None:
        self.cfg, self.tc, self.paths, self.env = cfg, cfg.train, paths, env
        self.device = env.device
        self.ckpt_dir = paths.folder / "checkpoints"
        torch.manual_seed(cfg.seed + env.rank)
        if self.device.type == "cuda":  # TF32 where the GPU has it (MAS scores excepted)
            torch.backends.cuda.matmul.fp32_precision = "tf32"
            torch.backends.cudnn.conv.fp32_precision = "tf32"  # type: ignore[attr-defined]

        store = FeatureStore(paths.store, audio=cfg.audio, text=cfg.text)
        self.n_vocab = int(store.meta["n_vocab"])
        self.pronunciations = store.meta.get("pronunciations")
        self.train_set = TTSDataset.from_filelist(store, paths.train_list)
        self.val_set = TTSDataset.from_filelist(store, paths.val_list)
        self.data = _data_identity(store, self.train_set, self.val_set)  # resume: same data
        self.sampler = BucketBatchSampler(
            self.train_set.lengths,
            batch_size=None if self.tc.max_frames else self.tc.batch_size,
            max_frames=self.tc.max_frames,
            num_replicas=env.world_size,
            rank=env.rank,
            seed=cfg.seed,
        )
        self.loader_rng = torch.Generator()  # DataLoader seeds its workers from this, not
        self.loader = torch.utils.data.DataLoader(  # from the global RNG dropout uses
            self.train_set,
            batch_sampler=self.sampler,
            collate_fn=collate,
            num_workers=self.tc.num_workers,
            pin_memory=self.device.type == "cuda",
            persistent_workers=False,
            generator=self.loader_rng,
        )

        if self.tc.freeze and not self.tc.init_from:
            raise UserValueError(
                f"train.freeze {list(self.tc.freeze)} needs train.init_from: freezing parts of a "
                "fresh model would keep them random"
            )
        unknown = sorted(set(self.tc.freeze) - {"encoder", "duration_predictor"})
        if unknown:
            raise UserValueError(
                f"train.freeze: unknown part(s) {unknown}; use encoder and/or duration_predictor"
            )
        self.raw = GlowTTS(cfg.model, self.n_vocab, cfg.audio.n_mels).to(self.device)
        if self.tc.num_workers > 0 and self.device.type == "cpu":  # beside busy workers,
            self.raw.mas_threads = 1  # never slower than one thread
        self.raw.mas_on_host = self.tc.mas_on_host
        self.optimizer = torch.optim.Adam(
            self.raw.parameters(), lr=self.tc.learning_rate, betas=self.tc.betas, eps=self.tc.eps
        )
        self.scheduler = noam_scheduler(
            self.optimizer, d_model=cfg.model.hidden_channels, warmup_steps=self.tc.warmup_steps
        )
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.tc.precision == "fp16")
        self.progress = _Progress()
        self.resumed_from: Path | None = None
        self.last_losses: list[str] = []  # the last finite steps, for NonFiniteLossError

    # ------------------------------------------------------------------ start or resume

    def _resume_or_initialise(self) -> None:
        latest = self._latest_readable_checkpoint()
        if latest is None:
            if self.tc.init_from:
                self._initialise_from(Path(self.tc.init_from).expanduser())
            else:
                self._data_dependent_init()
            self._freeze()
            return
        self._freeze()
        path, ckpt = latest
        self._check_resumable(path, ckpt)
        self.resumed_from = path
        state = ckpt.train
        assert state is not None, "checked by _check_resumable"
        changed = [
            f"train.{k}: {v!r} -> {getattr(self.tc, k)!r}"
            for k, v in state["train_config"].items()
            if k in to_dict(self.tc) and to_dict(self.tc)[k] != v
        ]
        if changed:
            log.warning("resuming with other train settings: %s", "; ".join(changed))
        self.raw.load_state_dict(ckpt.model, strict=True)  # copied to the model's device
        self.optimizer.load_state_dict(state["optimizer"])  # moved to the parameters' device
        self.scheduler.load_state_dict(state["scheduler"])
        self._apply_current_optimizer_settings()
        if state["scaler"] and self.scaler.is_enabled():  # an fp32 run saved an empty state
            self.scaler.load_state_dict(state["scaler"])
        self.sampler.load_state_dict(state["sampler"])
        self.progress = _Progress(**state["progress"])
        restore_rng(state["rng"][self.env.rank], self.device)
        if self.progress.step > self.tc.steps:
            log.warning(
                "the newest checkpoint is at step %d, past train.steps=%d: it is the output",
                self.progress.step,
                self.tc.steps,
            )
        log.info("resumed from %s at step %d", path, self.progress.step)

    def _latest_readable_checkpoint(self) -> tuple[Path, Checkpoint] | None:
        """Rank 0 picks the newest checkpoint that is a readable file (a damaged one is
        skipped with a warning; any other problem stops) and tells every rank, so all
        resume from the same step."""
        choice: list[str | None] = [None]
        if self.env.is_main:
            remove_stale_temporaries(self.ckpt_dir)
            found = list_checkpoints(self.ckpt_dir)
            for _, path in reversed(found):
                try:
                    load_checkpoint(path)
                except UnreadableCheckpointError as exc:
                    log.warning("skipping a damaged checkpoint: %s", exc)
                    continue
                choice = [str(path)]
                break
            if found and choice[0] is None:
                raise CheckpointError(
                    f"no checkpoint in {self.ckpt_dir} is readable ({len(found)} damaged); "
                    "move the folder away to train afresh"
                )
        if self.env.distributed:
            dist.broadcast_object_list(choice, src=0)
        if choice[0] is None:
            return None
        path = Path(choice[0])
        # on the CPU: the RNG states must stay CPU tensors; weights and the optimizer's
        # state are copied to their parameters' device when loaded
        return path, load_checkpoint(path, map_location="cpu")

    def _check_resumable(self, path: Path, ckpt: Checkpoint) -> None:
        """Refuse a checkpoint trained on other features, text or model, naming each field."""
        cfg, stored = self.cfg, ckpt.config
        diffs = model_config_differences(stored.model, cfg.model)
        for section in ("audio", "text"):
            a, b = to_dict(getattr(stored, section)), to_dict(getattr(cfg, section))
            diffs += [
                f"{section}.{k}: checkpoint {a[k]!r}, config {b[k]!r}" for k in a if a[k] != b[k]
            ]
        if stored.features.dtype != cfg.features.dtype:
            diffs.append(
                f"features.dtype: checkpoint {stored.features.dtype!r}, config {cfg.features.dtype!r}"
            )
        pairs: tuple[tuple[str, object, object], ...] = (
            ("n_vocab", ckpt.n_vocab, self.n_vocab),
            ("n_mels", ckpt.n_mels, cfg.audio.n_mels),
            ("pronunciations", ckpt.pronunciations, self.pronunciations),
        )
        for name, stored_value, current in pairs:
            if stored_value != current:
                diffs.append(f"{name}: checkpoint {stored_value!r}, features {current!r}")
        trained_on = (ckpt.train or {}).get("data")
        if trained_on is not None:
            diffs += [
                f"training data: {name} changed since the checkpoint (sha256 "
                f"{str(trained_on.get(name))[:12]}... now {digest[:12]}...)"
                for name, digest in self.data.items()
                if trained_on.get(name) != digest
            ]
        elif ckpt.train is not None:  # written before data digests: judge by the files' age
            inputs = (self.paths.store / META_FILE, self.paths.train_list, self.paths.val_list)
            written = path.stat().st_mtime
            diffs += [
                f"training data: {p} was rebuilt after this checkpoint, which predates data digests"
                for p in inputs
                if Path(p).stat().st_mtime > written
            ]
        started = ((ckpt.train or {}).get("train_config") or {}).get("init_from", "")
        if started != self.tc.init_from:  # fine-tuning from another voice is another run
            diffs.append(f"train.init_from: checkpoint {started!r}, config {self.tc.init_from!r}")
        if diffs or ckpt.train is None:
            raise CheckpointError(
                f"{path}: cannot resume: it was trained with other settings "
                f"({'; '.join(diffs) or 'it holds no training state'}); move {self.ckpt_dir} "
                "away (or choose another run name) to train afresh"
            )
        if len(ckpt.train["rng"]) != self.env.world_size:
            raise CheckpointError(
                f"{path}: written by {len(ckpt.train['rng'])} process(es), resumed by "
                f"{self.env.world_size}; resume with the same number of processes, or move "
                f"{self.ckpt_dir} away to train afresh"
            )

    def _apply_current_optimizer_settings(self) -> None:
        """The config's learning-rate scale, betas and eps win over the checkpoint's (so a
        rerun with a lower train.learning_rate really lowers it); the schedule continues."""
        tc = self.tc
        self.scheduler.base_lrs = [tc.learning_rate for _ in self.optimizer.param_groups]
        factor = self.scheduler.lr_lambdas[0]
        for group in self.optimizer.param_groups:
            group["initial_lr"] = tc.learning_rate
            group["betas"] = tc.betas
            group["eps"] = tc.eps
            group["lr"] = tc.learning_rate * factor(self.scheduler.last_epoch)

    def _initialise_from(self, path: Path) -> None:
        """Fine-tuning: the weights of ``path`` (strict), after checking that it reads the
        same tokens and makes the same mels; no data-dependent init, a fresh optimizer."""
        ckpt = load_checkpoint(path, map_location="cpu")
        cfg, stored = self.cfg, ckpt.config
        diffs = [
            d
            for d in model_config_differences(stored.model, cfg.model)
            if not d.startswith(("model.p_dropout:", "model.p_dropout_dec:"))
        ]
        for section, ignored in (
            ("audio", {"dither"}),
            ("text", {"on_unknown_char", "dictionary"}),
        ):
            a, b = to_dict(getattr(stored, section)), to_dict(getattr(cfg, section))
            diffs += [
                f"{section}.{k}: checkpoint {a[k]!r}, config {b[k]!r}"
                for k in a
                if k not in ignored and a[k] != b[k]
            ]
        if ckpt.n_vocab != self.n_vocab:
            diffs.append(
                f"vocabulary: the checkpoint reads {ckpt.n_vocab} symbols "
                f"(text.add_blank {stored.text.add_blank}), the features {self.n_vocab} "
                f"(text.add_blank {cfg.text.add_blank})"
            )
        sha = lambda p: (p or {}).get("sha256")  # noqa: E731  (same content, any file name)
        if cfg.text.cmudict and sha(ckpt.pronunciations) != sha(self.pronunciations):
            diffs.append(
                f"pronouncing dictionary: checkpoint {ckpt.pronunciations!r}, features "
                f"{self.pronunciations!r} (set text.dictionary to the checkpoint's file)"
            )
        if diffs:
            raise CheckpointError(
                f"train.init_from {path}: cannot fine-tune from it: {'; '.join(diffs)}; set "
                "these config values to the checkpoint's"
            )
        self.raw.load_state_dict(ckpt.model, strict=True)  # copied to the model's device
        log.info(
            "fine-tuning from %s (its step %s): weights loaded, no data-dependent init, "
            "a fresh optimizer and schedule",
            path,
            ckpt.step if ckpt.step is not None else "n/a",
        )

    def _freeze(self) -> None:
        """``train.freeze``: the named parts get no gradient (before DDP sees them)."""
        parts = {
            "encoder": self.raw.text_encoder,
            "duration_predictor": self.raw.duration_predictor,
        }
        for name in self.tc.freeze:
            for param in parts[name].parameters():
                param.requires_grad_(False)
        if self.tc.freeze:
            frozen = sum(q.numel() for q in self.raw.parameters() if not q.requires_grad)
            log.info("frozen: %s (%d parameters)", ", ".join(self.tc.freeze), frozen)

    def _data_dependent_init(self) -> None:
        """ActNorm statistics from rank 0's first ``ddi_batches`` batches (DDP broadcasts)."""
        self.sampler.set_epoch(0)
        batches = []
        for batch in self.loader:
            batches.append(batch)
            if len(batches) == self.tc.ddi_batches:
                break
        T_y = max(b.y.size(2) for b in batches)
        y = torch.cat([torch.nn.functional.pad(b.y, (0, T_y - b.y.size(2))) for b in batches])
        y_lengths = torch.cat([b.y_lengths for b in batches])
        self.raw.train()
        self.raw.data_dependent_init(y.to(self.device), y_lengths.to(self.device))
        log.info("data-dependent ActNorm init on %d utterances", y.size(0))

    # ------------------------------------------------------------------ the loop

    def run(self, stop_after: int | None) -> Path:
        self._resume_or_initialise()
        model: torch.nn.Module = self.raw
        if self.env.distributed:  # broadcasts rank 0's parameters (its DDI) to every rank
            model = torch.nn.parallel.DistributedDataParallel(
                self.raw,
                device_ids=[self.device.index] if self.device.type == "cuda" else None,
                broadcast_buffers=False,  # the flows' buffers are constant index tables
            )
        if self.tc.compile:
            model = torch.compile(model, dynamic=True)  # type: ignore[assignment]
        monitor = TrainingMonitor(
            self.paths.folder,
            enabled=self.env.is_main,
            total_steps=self.tc.steps,
            start_step=self.progress.step,
        )
        p = self.progress
        last_saved = last_validated = p.step
        saved = self.resumed_from  # the checkpoint of this step, when nothing is left to do
        try:
            for batch in self._batches():
                metrics = self._step(model, batch)
                if metrics is None:
                    continue
                if p.step % self.tc.log_every == 0 or p.step == 1:
                    monitor.step(p.step, metrics, log_line=True)
                if p.step % self.tc.validate_every == 0:
                    self._validate(monitor)
                    last_validated = p.step
                if p.step % self.tc.checkpoint_every == 0:
                    saved = self._save_checkpoint()
                    last_saved = p.step
                    if stop_after is not None and p.step >= stop_after:
                        return self.paths.output
            if last_validated != p.step:
                self._validate(monitor)
            if last_saved != p.step:
                saved = self._save_checkpoint()
            self._write_output(saved)
        finally:
            monitor.close()
        return self.paths.output

    def _done(self) -> bool:
        epochs = self.tc.epochs
        return self.progress.step >= self.tc.steps or (
            epochs is not None and self.progress.epoch >= epochs
        )

    def _batches(self) -> Iterator[Batch]:
        """Batches until the step or epoch limit; the position is kept in ``progress``."""
        p = self.progress
        while not self._done():
            self.sampler.set_epoch(p.epoch, start_batch=p.batches_done)
            self.loader_rng.manual_seed(self.cfg.seed * 1_000_003 + p.epoch)
            for batch in self.loader:
                p.batches_done += 1
                yield batch
                if self._done():
                    return
            p.epoch += 1
            p.batches_done = 0

    def _step(self, model: torch.nn.Module, batch: Batch) -> dict[str, float] | None:
        """One optimizer step; its metrics, or None when it was skipped (non-finite)."""
        start = time.perf_counter()
        p, tc = self.progress, self.tc
        batch = batch.to(self.device, non_blocking=True)
        self.optimizer.zero_grad(set_to_none=True)
        mle_t, dur_t, n_values_t = forward_backward(
            model, batch, self.env, autocast=self._autocast, scaler=self.scaler
        )
        self.scaler.unscale_(self.optimizer)
        norm_t = clip_by_value(self.raw.parameters(), tc.grad_clip_value)
        # the one host sync of a step: whether to apply it (the same answer on every rank,
        # as losses and gradients are already summed over all of them)
        values = torch.stack([mle_t, dur_t, norm_t.float(), n_values_t]).tolist()
        mle, dur, norm, n_values = values
        if not (math.isfinite(mle) and math.isfinite(dur) and math.isfinite(norm)):
            self.optimizer.zero_grad(set_to_none=True)
            self.scaler.update()
            p.skipped += 1
            p.streak += 1
            if self.env.is_main:  # the same on every rank: say it once
                log.warning(
                    "step %d: non-finite loss or gradient (mle=%s duration=%s grad_norm=%s); "
                    "skipped (%d in a row)",
                    p.step + 1,
                    mle,
                    dur,
                    norm,
                    p.streak,
                )
            if p.streak >= tc.max_nonfinite_steps:
                raise NonFiniteLossError(
                    f"training stopped at step {p.step + 1}: {p.streak} steps in a row had a "
                    f"non-finite loss or gradient (train.max_nonfinite_steps). Last finite "
                    f"steps: {'; '.join(self.last_losses) or 'none'}. Lower "
                    "train.learning_rate (a rerun resumes from the last checkpoint with it), use "
                    "precision fp32, or check the data"
                )
            return None
        lr = self.optimizer.param_groups[0]["lr"]
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        p.step += 1
        p.streak = 0
        self.last_losses = [
            *self.last_losses[-2:],
            f"step {p.step} mle={mle:.4g} duration={dur:.4g}",
        ]
        seconds = time.perf_counter() - start
        return {
            "loss/mle": mle,
            "loss/duration": dur,
            "loss/total": mle + dur,
            "lr": lr,
            "grad_norm": norm,
            "step_time_s": seconds,
            "frames_per_s": n_values / self.cfg.audio.n_mels / seconds,
            "skipped_steps": p.skipped,
            "padding/mel": batch.frame_padding,
            "padding/mas": batch.cell_padding,
            "epoch": p.epoch,
        }

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        dtype = _AUTOCAST[self.tc.precision]
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=dtype)

    # ------------------------------------------------------------------ validation

    @torch.no_grad()
    def _validate(self, monitor: TrainingMonitor) -> None:
        """Losses over the whole val split and one sample (rank 0; the others wait)."""
        if not self.env.is_main:
            return
        self.raw.eval()
        sampler = BucketBatchSampler(
            self.val_set.lengths, batch_size=self.tc.batch_size, shuffle=False, seed=self.cfg.seed
        )
        totals = LossTotals()
        for indices in sampler:
            batch = collate([self.val_set[i] for i in indices]).to(self.device)
            with self._autocast():
                totals.add(self.raw(batch.x, batch.x_lengths, batch.y, batch.y_lengths))
        mle, dur = totals.mean_mle, totals.mean_duration
        monitor.validation(
            self.progress.step,
            {"val/loss/mle": mle, "val/loss/duration": dur, "val/loss/total": mle + dur},
        )
        self._sample(monitor)
        self.raw.train()

    def _sample(self, monitor: TrainingMonitor) -> None:
        """The first val utterance: target vs generated mel, MAS alignment, audio."""
        if not monitor.enabled:
            return
        from glowtts.audio import griffin_lim

        tokens, mel = self.val_set[0]
        x, y = tokens[None].to(self.device), mel[None].to(self.device)
        x_len = torch.tensor([x.size(1)], device=self.device)
        y_len = torch.tensor([y.size(2)], device=self.device)
        out = self.raw(x, x_len, y, y_len)
        n_frames = int(out.y_lengths[0])
        gen = torch.Generator(self.device).manual_seed(self.cfg.seed)  # not the global RNG
        inferred = self.raw.infer(x, x_len, noise_scale=SAMPLE_NOISE_SCALE, generator=gen)
        generated = inferred.mel[0, :, : int(inferred.y_lengths[0])].float().cpu()
        wav = None
        if bool(torch.isfinite(generated).all()):  # an early, diverging model may give NaN
            wav = griffin_lim(generated, self.cfg.audio, n_iter=SAMPLE_GRIFFIN_LIM_ITERS)
        monitor.sample(
            self.progress.step,
            target=mel.numpy(),
            generated=generated.numpy(),
            indices=out.indices[0, :n_frames].cpu().numpy(),
            n_tokens=x.size(1),
            audio_cfg=self.cfg.audio,
            wav=wav,
        )

    # ------------------------------------------------------------------ checkpoints

    def _checkpoint(self, train_state: dict[str, Any] | None) -> Checkpoint:
        return Checkpoint(
            config=with_defaults(self.cfg),
            known=known_fields(self.cfg),
            n_vocab=self.n_vocab,
            n_mels=self.cfg.audio.n_mels,
            model={k: v.detach().cpu() for k, v in self.raw.state_dict().items()},
            pronunciations=self.pronunciations,
            train=train_state,
        )

    def _save_checkpoint(self) -> Path | None:
        """Every rank's RNG to rank 0, which writes ``checkpoints/step-N.pt`` (returned; None on
        other ranks); keep the last K."""
        rng = capture_rng(self.device)
        rngs: list[Any] = [rng]
        if self.env.distributed:
            rngs = [None] * self.env.world_size
            dist.all_gather_object(rngs, rng)
        if not self.env.is_main:
            return None
        p = self.progress
        state = {
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "sampler": self.sampler.state_dict(consumed=p.batches_done - self.sampler.start_batch),
            "progress": {
                k: getattr(p, k) for k in ("step", "epoch", "batches_done", "skipped", "streak")
            },
            "rng": rngs,
            "train_config": to_dict(self.tc),
            "data": self.data,
        }
        path = save_checkpoint(checkpoint_path(self.ckpt_dir, p.step), self._checkpoint(state))
        prune_checkpoints(self.ckpt_dir, self.tc.keep_checkpoints)
        log.info("checkpoint step=%d path=%s", p.step, path)
        return path

    def _write_output(self, saved: Path | None) -> None:
        """Copy the checkpoint of the final step (just saved, or resumed at) to the output."""
        if not self.env.is_main:
            return
        assert saved is not None, "the final step's checkpoint was saved or resumed from"
        save_checkpoint(self.paths.output, load_checkpoint(saved))
        log.info(
            "trained step=%d epoch=%d skipped=%d -> %s",
            self.progress.step,
            self.progress.epoch,
            self.progress.skipped,
            self.paths.output,
        )


def _data_identity(
    store: FeatureStore, train_set: TTSDataset, val_set: TTSDataset
) -> dict[str, str]:
    """sha256 of what training reads: the train and the val utterances' ids, mels and tokens
    (the test split and a filelist's order do not count)."""
    return {"train data": store.digest(train_set.ids), "val data": store.digest(val_set.ids)}
