"""Delay-adjusted precision, recall and F1 against hand-computed cases."""

import numpy as np
import pytest

from cnnsuite_anomaly.metrics import Counts, best_threshold, delay_counts, delay_f1, segments

LABELS = np.array([0, 1, 1, 1, 0, 0, 1, 1, 0])
ALARMS = np.array([0, 0, 1, 0, 0, 1, 0, 0, 0])


def test_segments():
    starts, ends = segments(LABELS)
    assert starts.tolist() == [1, 6] and ends.tolist() == [4, 8]


def test_hit_within_delay_credits_the_whole_segment():
    # segment [1, 4) hit at 2 -> 3 TP; segment [6, 8) missed -> 2 FN; alarm at 5 -> 1 FP
    counts = delay_counts(ALARMS, LABELS, delay=7)
    assert counts == Counts(tp=3, fp=1, fn=2)
    assert counts.precision == pytest.approx(3 / 4)
    assert counts.recall == pytest.approx(3 / 5)
    assert counts.f1 == pytest.approx(2 * 0.75 * 0.6 / 1.35)


def test_alarm_after_the_delay_misses():
    # the alarm is 1 point after the start: delay 0 misses it, delay 1 catches it
    # an alarm inside a missed segment is not a false positive (the reference rule)
    assert delay_counts(ALARMS, LABELS, delay=0) == Counts(tp=0, fp=1, fn=5)
    assert delay_counts(ALARMS, LABELS, delay=1) == Counts(tp=3, fp=1, fn=2)


def test_late_alarm_in_a_long_segment():
    labels = np.zeros(30, dtype=int)
    labels[5:25] = 1
    alarms = np.zeros(30, dtype=int)
    alarms[13] = 1  # 8 points after the start
    assert delay_counts(alarms, labels, delay=7) == Counts(tp=0, fp=0, fn=20)
    assert delay_counts(alarms, labels, delay=8) == Counts(tp=20, fp=0, fn=0)
    assert delay_counts(alarms, labels, delay=None) == Counts(tp=20, fp=0, fn=0)


def test_no_labels_no_alarms_and_counts_add_over_series():
    assert delay_counts(np.zeros(5), np.zeros(5)).f1 == 0.0
    total = delay_f1([np.array([0.9, 0.1, 0.0]), ALARMS * 1.0], [np.array([1, 0, 0]), LABELS],
                     threshold=0.5)
    assert total == Counts(tp=4, fp=1, fn=2)


def test_best_threshold_separates_scores():
    labels = [np.array([0, 0, 1, 0, 0, 0, 1, 0])]
    scores = [np.array([0.1, 0.2, 0.9, 0.3, 0.1, 0.2, 0.8, 0.4])]
    threshold, counts = best_threshold(scores, labels, delay=0)
    assert 0.4 <= threshold < 0.8
    assert counts.f1 == 1.0


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError):
        delay_counts(np.zeros(3), np.zeros(4))


def test_ignored_points_count_for_nothing():
    labels = np.array([0, 0, 1, 1, 1, 0])
    alarms = np.array([1, 1, 0, 0, 1, 1])
    ignore = np.array([0, 1, 1, 0, 0, 0], dtype=bool)
    # the segment is [3, 5) once point 2 is ignored; the alarm at 1 is ignored
    assert delay_counts(alarms, labels, 7, ignore) == Counts(tp=2, fp=2, fn=0)
