"""Alignment scores on hand-made cases whose answers are known by construction."""

from __future__ import annotations

import numpy as np
import pytest

from glowtts.metrics import aggregate, alignment_scores, durations_to_indices, merge_blanks


def _a(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def test_durations_to_indices() -> None:
    np.testing.assert_array_equal(durations_to_indices(_a(2, 0, 1)), [0, 0, 2])
    np.testing.assert_array_equal(durations_to_indices(_a(1, 3)), [0, 1, 1, 1])
    assert durations_to_indices(_a()).shape == (0,)
    # float durations from a model are fine when they are whole numbers
    np.testing.assert_array_equal(durations_to_indices(np.array([1.0, 2.0])), [0, 1, 1])


@pytest.mark.parametrize("bad", [np.array([1, -1]), np.array([1.5, 2.0]), np.ones((2, 2))])
def test_durations_to_indices_rejects_bad_input(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="durations"):
        durations_to_indices(bad)


def test_identical_is_perfect() -> None:
    s = alignment_scores(_a(3, 2, 4), _a(3, 2, 4))
    assert s["frames_exact"] == 1.0
    assert s["frames_within_1"] == 1.0
    assert s["duration_mae_frames"] == 0.0
    assert s["boundary_mae_frames"] == 0.0
    assert (s["n_frames"], s["n_symbols"]) == (9.0, 3.0)


def test_boundary_moved_by_one_frame() -> None:
    # true 000 11 2222 / pred 0000 1 2222: frame 3 wrong, but symbol 0 is true at frame 2
    s = alignment_scores(_a(3, 2, 4), _a(4, 1, 4))
    assert s["frames_exact"] == pytest.approx(8 / 9)
    assert s["frames_within_1"] == 1.0
    assert s["duration_mae_frames"] == pytest.approx((1 + 1 + 0) / 3)
    assert s["boundary_mae_frames"] == pytest.approx((1 + 0) / 2)  # ends 3,5 vs 4,5


def test_boundary_moved_by_two_frames() -> None:
    # true 000 111 222 / pred 00000 1 222: frames 3 and 4 wrong; frame 3 is next to a
    # true 0 (within one frame), frame 4 is not
    s = alignment_scores(_a(3, 3, 3), _a(5, 1, 3))
    assert s["frames_exact"] == pytest.approx(7 / 9)
    assert s["frames_within_1"] == pytest.approx(8 / 9)
    assert s["duration_mae_frames"] == pytest.approx((2 + 2 + 0) / 3)
    assert s["boundary_mae_frames"] == pytest.approx((2 + 0) / 2)  # ends 3,6 vs 5,6


def test_shorter_prediction_is_padded_with_its_last_symbol() -> None:
    # pred 0 0 1 -> padded 0 0 1 1 = truth; the duration error still sees the lost frame
    s = alignment_scores(_a(2, 2), _a(2, 1))
    assert s["frames_exact"] == 1.0
    assert s["duration_mae_frames"] == pytest.approx(0.5)
    assert s["n_frames"] == 4.0
    # pred 0 0 1 1 (symbol 2 has no frames) -> padded with 1: true 00 11 22
    s = alignment_scores(_a(2, 2, 2), _a(2, 2, 0))
    assert s["frames_exact"] == pytest.approx(4 / 6)
    assert s["frames_within_1"] == pytest.approx(5 / 6)  # frame 4 follows a true 1
    # no predicted frames at all -> every frame gets the last symbol
    s = alignment_scores(_a(1, 1), _a(0, 0))
    assert s["frames_exact"] == pytest.approx(0.5)


def test_longer_prediction_is_truncated_to_the_true_length() -> None:
    s = alignment_scores(_a(2, 2), _a(2, 4))
    assert s["frames_exact"] == 1.0
    assert s["n_frames"] == 4.0
    assert s["duration_mae_frames"] == pytest.approx(1.0)
    assert s["boundary_mae_frames"] == 0.0


def test_single_symbol_has_no_boundary() -> None:
    s = alignment_scores(_a(4), _a(3))
    assert s["frames_exact"] == 1.0
    assert s["boundary_mae_frames"] == 0.0
    assert s["duration_mae_frames"] == 1.0


def test_alignment_scores_rejects_mismatch_and_empty() -> None:
    with pytest.raises(ValueError, match="merge_blanks"):
        alignment_scores(_a(1, 2, 3), _a(1, 2, 3, 4, 5))
    with pytest.raises(ValueError, match="no symbols"):
        alignment_scores(_a(), _a())
    with pytest.raises(ValueError, match="0 frames"):
        alignment_scores(_a(0, 0), _a(1, 1))


def test_merge_blanks_interleaved() -> None:
    # _ a _ b _ : leading blank (1) -> a, middle 2 frames -> 1 + 1, trailing (2) -> b
    # a = 1 + 2 + 1 = 4, b = 1 + 4 + 2 = 7 (total 11 kept)
    blank = np.array([True, False, True, False, True])
    np.testing.assert_array_equal(merge_blanks(_a(1, 2, 2, 4, 2), blank), [4, 7])
    # an odd blank gives the extra frame to the left symbol: a=1+2, b=1+1
    blank = np.array([True, False, True, False])
    np.testing.assert_array_equal(merge_blanks(_a(0, 1, 3, 1), blank), [3, 2])


def test_merge_blanks_consecutive_and_none() -> None:
    # a _ _ b: each blank splits between a and b (3 -> 2 + 1, 1 -> 1 + 0)
    blank = np.array([False, True, True, False])
    np.testing.assert_array_equal(merge_blanks(_a(1, 3, 1, 1), blank), [4, 2])
    # no blanks: unchanged; totals are always kept
    d = _a(2, 3, 1)
    np.testing.assert_array_equal(merge_blanks(d, np.zeros(3, dtype=bool)), d)


def test_merge_blanks_then_score() -> None:
    # model with blanks: _ a _ b _ = [0, 3, 1, 2, 0] -> a 4, b 2 vs truth a 3, b 3
    blank = np.array([True, False, True, False, True])
    pred = merge_blanks(_a(0, 3, 1, 2, 0), blank)
    s = alignment_scores(_a(3, 3), pred)
    assert s["frames_exact"] == pytest.approx(5 / 6)
    assert s["frames_within_1"] == 1.0


def test_merge_blanks_rejects_bad_mask() -> None:
    with pytest.raises(ValueError, match="blank_mask shape"):
        merge_blanks(_a(1, 2), np.array([True]))
    with pytest.raises(ValueError, match="no non-blank"):
        merge_blanks(_a(1, 2), np.array([True, True]))


def test_aggregate_weights_by_frames_and_symbols() -> None:
    perfect = alignment_scores(_a(3, 2, 4), _a(3, 2, 4))  # 9 frames, 3 symbols
    half = alignment_scores(_a(1, 1), _a(0, 0))  # 2 frames, exact 0.5, mae 1, boundary 1
    agg = aggregate([perfect, half])
    assert agg["frames_exact"] == pytest.approx((9 * 1.0 + 2 * 0.5) / 11)
    assert agg["frames_within_1"] == pytest.approx(1.0)
    assert agg["duration_mae_frames"] == pytest.approx((3 * 0.0 + 2 * 1.0) / 5)
    assert agg["boundary_mae_frames"] == pytest.approx((2 * 0.0 + 1 * 1.0) / 3)
    assert (agg["n_frames"], agg["n_symbols"], agg["n_utterances"]) == (11.0, 5.0, 2.0)


def test_aggregate_rejects_empty_and_foreign_dicts() -> None:
    with pytest.raises(ValueError, match="no utterance"):
        aggregate([])
    with pytest.raises(ValueError, match="lacks"):
        aggregate([{"frames_exact": 1.0}])


def test_boundary_shifts_are_signed_per_inner_boundary() -> None:
    from glowtts.metrics import boundary_shifts

    # true ends 2, 5 (| 6); predicted ends 3, 5: the first symbol ends one frame late
    np.testing.assert_array_equal(boundary_shifts(_a(2, 3, 1), _a(3, 2, 1)), [1, 0])
    np.testing.assert_array_equal(boundary_shifts(_a(4, 4), _a(2, 6)), [-2])
    assert boundary_shifts(_a(5), _a(7)).shape == (0,)  # one symbol: no inner boundary
    # agrees with boundary_mae_frames of alignment_scores
    true, pred = _a(3, 1, 4, 2), _a(2, 3, 2, 3)
    shifts = boundary_shifts(true, pred)
    assert np.abs(shifts).mean() == alignment_scores(true, pred)["boundary_mae_frames"]
    with pytest.raises(ValueError, match="merge_blanks"):
        boundary_shifts(_a(1, 2), _a(3))
