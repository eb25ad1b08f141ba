import itertools

import pytest
from empathic.perception import FusionConfig, ModalityEstimate, WeightedFuser


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
        f = WeightedFuser(FusionConfig(baseline_share=0.0))  # the slow baseline is the one stateful part
        for e in perm:
            f.update(e)
        states.append(f.state(1.2))
    first = states[0]
    for s in states[1:]:
        assert s.probs == pytest.approx(first.probs)
        assert s.valence == pytest.approx(first.valence)
        assert s.complex_states == pytest.approx(first.complex_states)


def test_weight_halves_every_half_life_of_media_time():
    cfg = FusionConfig(prior_weight=1.0, half_life_s={"face": 1.0}, reliability={"face": 1.0})
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


def test_a_contradicting_modality_is_down_weighted_not_averaged():
    f = WeightedFuser()
    f.update(est("face", 1.0, {"sad": 1.0}, conf=0.8, valence=-0.7))
    f.update(est("voice", 1.0, {"sad": 0.9, "neutral": 0.1}, conf=0.8, valence=-0.6))
    f.update(est("text", 1.0, {"happy": 1.0}, conf=0.8, valence=0.8))
    s = f.state(1.0)
    # two agreeing modalities outweigh the contradicting one by more than their raw weights would
    plain = (0.8 * 1.0 + 0.8 * 0.8 * 0.9) / (0.8 * 1.0 + 0.8 * 0.8 + 0.8 * 0.9 + 0.05)
    assert s.dominant == "sad" and s.probs["sad"] > plain
    assert s.contributions["text"] < 0.2
    assert "Discounted as contradicting the rest: text" in s.explanation


def test_dominant_label_has_hysteresis():
    f = WeightedFuser(FusionConfig(hysteresis=0.1))
    f.update(est("face", 0.0, {"happy": 0.6, "neutral": 0.4}))
    assert f.state(0.0).dominant == "happy"
    f.update(est("face", 0.1, {"happy": 0.4, "neutral": 0.6}))
    assert f.state(0.1).dominant == "happy"  # neutral leads, but not by enough yet
    f.update(est("face", 0.2, {"neutral": 1.0}))
    assert f.state(0.2).dominant == "neutral"


def test_without_evidence_the_state_decays_to_the_persons_baseline():
    cfg = FusionConfig(baseline_half_life_s=5.0, baseline_share=0.5, stale_after_s={"text": 100.0})
    f = WeightedFuser(cfg)
    for i in range(60):  # a person who reads sad for a minute
        f.update(est("text", float(i), {"sad": 1.0}, conf=0.9))
    later = f.state(200.0)
    assert later.confidence == 0.0
    assert 0.3 < later.probs["sad"] < 0.55  # toward their usual state, not all the way to neutral
    fresh = WeightedFuser(cfg).state(200.0)
    assert fresh.probs["neutral"] == 1.0


def test_temperature_acts_on_pooled_modalities_only():
    def fused(temperature, modalities):
        f = WeightedFuser(
            FusionConfig(temperature=temperature, prior_weight=0.0, calibration={"face": 1.0, "voice": 1.0})
        )
        for m in modalities:
            f.update(est(m, 1.0, {"happy": 0.7, "neutral": 0.3}, conf=1.0))
        return f.state(1.0).probs["happy"]

    assert fused(0.3, ["face"]) == pytest.approx(0.7)  # one modality keeps its own certainty
    assert fused(3.0, ["face", "voice", "text"]) < 0.7 < fused(0.5, ["face", "voice", "text"])
    assert fused(0.5, ["face", "voice"]) < fused(0.5, ["face", "voice", "text"])


def test_confidence_is_coverage_times_dominant_probability():
    f = WeightedFuser(
        FusionConfig(prior_weight=0.0, coverage_exponent=1.0, reliability={"face": 1.0}, calibration={"face": 1.0})
    )
    f.update(est("face", 1.0, {"happy": 0.7, "neutral": 0.3}, conf=0.5))
    s = f.state(1.0)
    assert s.confidence == pytest.approx(0.5 * 0.7)


def cue(name, value, modality, *supports):
    from empathic.perception import Cue

    return Cue(name, value, modality, supports=supports)


@pytest.mark.parametrize(
    ("estimates", "state"),
    [
        # confusion: knitted brows and a hedged question add up across modalities
        (
            [
                est("face", 1.0, {"neutral": 1.0}, cues=(cue("brow_lowerer", 0.7, "face", "confusion"),)),
                est("text", 1.0, {"neutral": 1.0}, cues=(cue("hedge", 0.5, "text", "confusion"),)),
            ],
            "confusion",
        ),
        # frustration: negative and aroused, no cue words needed
        ([est("voice", 1.0, {"angry": 1.0}, conf=0.9, valence=-0.8, arousal=0.7)], "frustration"),
        # skepticism: one-sided lip corner
        ([est("face", 1.0, {"neutral": 1.0}, cues=(cue("AU14U", 0.9, "face", "skepticism"),))], "skepticism"),
        # contemplation: gaze aversion while calm
        (
            [
                est(
                    "face",
                    1.0,
                    {"neutral": 1.0},
                    arousal=-0.3,
                    cues=(cue("gaze_aversion", 0.9, "face", "contemplation"),),
                )
            ],
            "contemplation",
        ),
        # boredom: very low arousal
        ([est("voice", 1.0, {"sad": 0.3, "neutral": 0.7}, conf=0.9, arousal=-0.95)], "boredom"),
        # interest: positive and engaged
        ([est("face", 1.0, {"happy": 1.0}, conf=0.9, valence=0.9, arousal=0.6)], "interest"),
        # mixed: a smile with negative words
        ([est("face", 1.0, {"happy": 1.0}, valence=0.8), est("text", 1.0, {"sad": 1.0}, valence=-0.7)], "mixed"),
    ],
)
def test_complex_state_rules(estimates, state):
    f = WeightedFuser()
    for e in estimates:
        f.update(e)
    s = f.state(1.0)
    assert s.complex_states[state] >= 0.4, s.complex_states
    calm = WeightedFuser()
    calm.update(est("face", 1.0, {"neutral": 1.0}, conf=0.9))
    assert calm.state(1.0).complex_states[state] < 0.4


def test_frustration_rises_with_arousal_trend():
    def run(arousals):
        f = WeightedFuser(FusionConfig(stale_after_s={"voice": 60.0}, half_life_s={"voice": 1.0}))
        for i, a in enumerate(arousals):
            f.update(est("voice", float(i), {"sad": 0.5, "neutral": 0.5}, valence=-0.4, arousal=a))
        return f.state(float(len(arousals) - 1)).complex_states["frustration"]

    assert run([-0.3] * 15 + [0.4] * 2) > run([0.4] * 17)


def test_explanation_names_modality_cue_and_what_it_supports():
    f = WeightedFuser()
    f.update(est("face", 1.0, {"neutral": 1.0}, cues=(cue("brow_lowerer", 0.7, "face", "confusion"),)))
    assert "face: brow lowerer 0.70 (confusion)" in f.state(1.0).explanation
