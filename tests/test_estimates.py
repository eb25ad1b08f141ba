import pytest
from empathic.perception import COMPLEX_STATES, Cue, EmotionState, ModalityEstimate


def test_probs_must_be_a_distribution_over_known_labels():
    with pytest.raises(ValueError, match="sum to 1"):
        ModalityEstimate("face", 0.0, {"happy": 0.5}, 0.0, 0.0, 0.5)
    with pytest.raises(ValueError, match="unknown label"):
        ModalityEstimate("face", 0.0, {"joy": 1.0}, 0.0, 0.0, 0.5)
    with pytest.raises(ValueError, match="confidence"):
        ModalityEstimate("face", 0.0, {"happy": 1.0}, 0.0, 0.0, 1.5)
    with pytest.raises(ValueError, match="valence"):
        ModalityEstimate("face", 0.0, {"happy": 1.0}, float("nan"), 0.0, 0.5)


def test_estimate_is_immutable():
    est = ModalityEstimate("text", 1.0, {"happy": 1.0}, 0.5, 0.2, 0.7, complex_states={"interest": 0.6})
    with pytest.raises(TypeError):
        est.probs["happy"] = 0.0  # type: ignore[index]


def test_unknown_is_confidence_zero_with_reason():
    est = ModalityEstimate.unknown("face", 2.0, "no face in view")
    assert est.confidence == 0.0 and est.probs == {} and est.reason == "no face in view"


def test_state_helpers():
    s = EmotionState(
        3.0,
        {"neutral": 0.2, "sad": 0.8},
        {"frustration": 0.7, "boredom": 0.1},
        -0.5,
        0.1,
        0.6,
    )
    assert s.dominant == "sad"
    assert s.top_complex() == "frustration"
    assert s.top_complex(0.8) is None
    assert s.p("sad") == 0.8 and s.p("frustration") == 0.7 and s.p("happy") == 0.0
    n = EmotionState.neutral()
    assert n.dominant == "neutral" and n.confidence == 0.0 and set(n.complex_states) == set(COMPLEX_STATES)


def test_cue_renders_value_or_quote():
    assert str(Cue("lip_corner_pull", 0.8)) == "lip_corner_pull=0.80"
    assert str(Cue("hedge", 0.3, "text", "I'm not sure")) == 'hedge:"I\'m not sure"'
