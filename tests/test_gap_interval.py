"""The fairness gap's interval resamples people, not clips."""

import pytest
from empathic.tooling.evals.metrics import gap_interval


def test_a_gap_every_person_shows_has_a_tight_interval():
    correct = [True] * 20 + [False] * 20
    groups = ["female"] * 20 + ["male"] * 20
    units = [f"f{i % 4}" for i in range(20)] + [f"m{i % 4}" for i in range(20)]
    assert gap_interval(correct, groups, units) == (1.0, 1.0)


def test_a_gap_one_person_makes_is_uncertain():
    """Four women right, three men right and one man always wrong: the point gap is 0.25, but a resample without
    that man has none, so the interval reaches 0."""
    correct = [True] * 40 + [True] * 30 + [False] * 10
    groups = ["female"] * 40 + ["male"] * 40
    units = [f"f{i // 10}" for i in range(40)] + [f"m{i // 10}" for i in range(40)]
    low, high = gap_interval(correct, groups, units)
    assert low == 0.0 and high >= 0.5


def test_a_gap_needs_two_groups():
    with pytest.raises(ValueError, match="two groups"):
        gap_interval([True, False], ["a", "a"], ["u1", "u2"])


def test_by_column_reports_add_the_interval_over_the_groups():
    from empathic.tooling.evals.metrics import grouped

    truth = ["happy"] * 12
    pred = ["happy"] * 6 + ["sad"] * 6
    subjects = ["s1"] * 6 + ["s2"] * 6  # one subject always right, one always wrong
    out = grouped(truth, pred, subjects, ["happy", "sad"], "subject")
    assert out["by"]["subject"]["s1"]["accuracy"] == 1.0 and out["by"]["subject"]["s2"]["accuracy"] == 0.0
    assert out["accuracy_ci95_over_subject"] == (0.0, 1.0)
    assert "accuracy_ci95_over_subject" not in grouped(truth, pred, [""] * 12, ["happy", "sad"], "subject")
