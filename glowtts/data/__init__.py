"""Corpora, splits, feature stores and datasets."""
