"""Data parallel training on CPU with gloo: gradients equal one process on the global batch;
two torchrun launches (two 'nodes') rendezvous on 127.0.0.1 and train."""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from train_helpers import REPO, tiny_config

from glowtts.checkpoint import load_checkpoint
from glowtts.config import Config, write_yaml
from glowtts.data.dataset import collate
from glowtts.data.store import FeatureStore
from glowtts.model import GlowTTS
from glowtts.train.distributed import DistEnv
from glowtts.train.loop import forward_backward

ITEMS = [0, 5, 9, 14]  # utterances of differing lengths: each half pads differently


def _no_dropout() -> Config:
    """Dropout off (the prenet's fixed 0.5 too, through eval mode in _model): same math."""
    cfg = tiny_config()
    return dataclasses.replace(
        cfg, model=dataclasses.replace(cfg.model, p_dropout=0.0, p_dropout_dec=0.0)
    )


def _model(cfg: Config, store: FeatureStore) -> GlowTTS:
    torch.manual_seed(0)
    model = GlowTTS(cfg.model, int(store.meta["n_vocab"]), cfg.audio.n_mels)
    full = collate([store[i] for i in ITEMS])
    model.data_dependent_init(full.y, full.y_lengths)
    return model.eval()


def _worker(rank: int, world: int, init_file: str, store_dir: str, out: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        cfg, store = _no_dropout(), FeatureStore(store_dir)
        model = torch.nn.parallel.DistributedDataParallel(_model(cfg, store))
        half = ITEMS[rank * 2 : rank * 2 + 2]
        env = DistEnv(rank=rank, local_rank=rank, world_size=world, device=torch.device("cpu"))
        mle, dur, _ = forward_backward(model, collate([store[i] for i in half]), env)
        grads = {n: q.grad for n, q in model.module.named_parameters() if q.grad is not None}
        if rank == 0:
            torch.save({"grads": grads, "mle": float(mle), "dur": float(dur)}, out)
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_two_processes_give_the_gradients_of_one_on_the_global_batch(
    data_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ddp.pt"
    mp.spawn(
        _worker,
        args=(2, str(tmp_path / "init"), str(data_dir / "store"), str(out)),
        nprocs=2,
        join=True,
    )
    ddp = torch.load(out, weights_only=True)

    cfg, store = _no_dropout(), FeatureStore(data_dir / "store")
    model = _model(cfg, store)
    one = DistEnv(rank=0, local_rank=0, world_size=1, device=torch.device("cpu"))
    mle, dur, _ = forward_backward(model, collate([store[i] for i in ITEMS]), one)
    assert ddp["mle"] == pytest.approx(float(mle), rel=1e-5)
    assert ddp["dur"] == pytest.approx(float(dur), rel=1e-5)
    grads = {n: q.grad for n, q in model.named_parameters() if q.grad is not None}
    assert grads.keys() == ddp["grads"].keys()
    for name, g in grads.items():
        torch.testing.assert_close(ddp["grads"][name], g, rtol=1e-4, atol=1e-6, msg=name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_two_node_rendezvous_on_localhost_trains(data_dir: Path, tmp_path: Path) -> None:
    """Two torchrun launches with --nnodes 2 (as two SLURM nodes would run them)."""
    cfg = tiny_config(steps=3, checkpoint_every=2, validate_every=2)
    write_yaml(cfg, tmp_path / "config.yaml")
    port = _free_port()
    out = tmp_path / "train"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--nproc_per_node", "1",
        "--rdzv_backend", "c10d", "--rdzv_endpoint", f"127.0.0.1:{port}", "--rdzv_id", "test",
        "-m", "glowtts.train", "--config", str(tmp_path / "config.yaml"),
        "--store", str(data_dir / "store"), "--train-list", str(data_dir / "train.tsv"),
        "--val-list", str(data_dir / "val.tsv"), "--folder", str(out),
        "--output", str(out / "glowtts.pt"), "--log-file", str(tmp_path / "train.log"),
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    nodes = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300)[0] for p in nodes]
    assert all(p.returncode == 0 for p in nodes), "\n\n".join(outputs)
    ckpt = load_checkpoint(out / "glowtts.pt")
    assert ckpt.train is not None and ckpt.train["progress"]["step"] == 3
    assert len(ckpt.train["rng"]) == 2  # both ranks' generators, for exact resume
    log = (tmp_path / "train.log").read_text()
    assert "step=3" in log and "[rank 1]" not in log  # rank 0 alone writes the log
