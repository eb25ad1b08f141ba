import itertools

import pytest

from perception import FusionConfig, ModalityEstimate, WeightedFuser


def est(modality, t, probs, conf=0.8, valence=0.0, arousal=0.0, **kw):
    return ModalityEstimate(modality, t, probs, valence, arousal, conf, **kw)


def test_no_evidence_is_neutral_with_zero_confidence():
    s = WeightedFuser().state(5.0)
    assert s.dominant == "neutral" and s.confidence == 0.0 and s.contributions == {}


def test_order_of_updates_does_not_matter():
    estimates = [
        est("face", 1.0, {"happy": 1.0}, valence=0.8),
        est("face", 1.07, {"happy": 0.5, "neutral": 0.5}),
        est("text", 0.5, {"sad": 1.0}, conf=0.5, valence=-0.7, complex_states={"frustration": 0.6}),
    ]
    states = []
    for perm in itertools.permutations(estimates):
        f = WeightedFuser()
        for e in perm:
            f.update(e)
        states.append(f.state(1.2))
    first = states[0]
    for s in states[1:]:
        assert s.probs == pytest.approx(first.probs)
        assert s.valence == pytest.approx(first.valence)
        assert s.complex_states == pytest.approx(first.complex_states)


def test_weight_halves_every_half_life_of_media_time():
    cfg = FusionConfig(prior_weight=1.0, half_life_s={"face": 1.0})
    f = WeightedFuser(cfg)
    f.update(est("face", 0.0, {"happy": 1.0}, conf=1.0))
    # reliability 1, confidence 1: weight 1 at age 0, 0.5 at age 1, against a prior of weight 1
    assert f.state(0.0).probs["happy"] == pytest.approx(1 / 2)
    assert f.state(1.0).probs["happy"] == pytest.approx(0.5 / 1.5)
    assert f.state(0.999).probs["happy"] > f.state(1.0).probs["happy"]


def test_stale_and_future_estimates_drop_out():
    f = WeightedFuser(FusionConfig(stale_after_s={"face": 2.0}))
    f.update(est("face", 1.0, {"angry": 1.0}))
    assert f.state(2.5).probs["angry"] > 0.3
    assert f.state(3.5).confidence == 0.0
    assert f.state(0.5).confidence == 0.0  # estimates from the future do not count


def test_contributions_and_explanation_name_the_evidence():
    f = WeightedFuser()
    f.update(est("face", 1.0, {"happy": 1.0}, valence=0.8))
    f.update(
        ModalityEstimate(
            "text",
            1.0,
            {"happy": 0.6, "neutral": 0.4},
            0.4,
            0.1,
            0.5,
            cues=(),
            complex_states={"interest": 0.9},
        )
    )
    f.update(ModalityEstimate.unknown("voice", 1.0, "silence"))
    s = f.state(1.0)
    assert sum(s.contributions.values()) == pytest.approx(1.0)
    assert s.contributions["face"] > s.contributions["text"]
    assert s.dominant == "happy" and s.valence > 0.5
    assert "happy" in s.explanation and "interest" in s.explanation and "voice: silence" in s.explanation


def test_more_agreeing_modalities_raise_confidence():
    one, two = WeightedFuser(), WeightedFuser()
    one.update(est("face", 1.0, {"sad": 1.0}, conf=0.5))
    two.update(est("face", 1.0, {"sad": 1.0}, conf=0.5))
    two.update(est("voice", 1.0, {"sad": 1.0}, conf=0.5))
    assert two.state(1.0).confidence > one.state(1.0).confidence


def test_reset_forgets():
    f = WeightedFuser()
    f.update(est("face", 1.0, {"sad": 1.0}))
    f.reset()
    assert f.state(1.0).confidence == 0.0
