"""Glow-TTS as a reproducible pipeline: text and audio front ends, MAS, model, training, evaluation.

Importing the package is cheap: submodules load torch, librosa and friends only when used.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
