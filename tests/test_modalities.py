"""The modality table is the one home of modalities: consent, compliance and fusion read it."""

import pytest
from empathic.agent.trust.compliance import ComplianceSettings, decide
from empathic.agent.trust.consent import CHANNEL_MODALITIES
from empathic.perception import MODALITY_TABLE, ModalityEstimate, PerceiverCapabilities, TextTurn, WeightedFuser


def test_a_perceiver_with_an_undeclared_modality_fails_at_construction():
    with pytest.raises(ValueError, match=r"unknown modality .gaze.*MODALITY_TABLE"):
        PerceiverCapabilities("gaze", (TextTurn,))


def test_fusion_refuses_an_estimate_of_an_undeclared_modality():
    with pytest.raises(ValueError, match="unknown modality 'gaze'"):
        WeightedFuser().update(ModalityEstimate("gaze", 1.0, {"happy": 1.0}, 0.5, 0.2, 0.9))


def test_consent_channels_and_the_compliance_guard_follow_the_table():
    assert {m for ms in CHANNEL_MODALITIES.values() for m in ms} == set(MODALITY_TABLE)
    assert CHANNEL_MODALITIES["camera"] == ("face", "body")
    prohibited = decide(ComplianceSettings(deployment_context="education", jurisdiction="DE"))
    assert prohibited.allowed_modalities == {m for m, row in MODALITY_TABLE.items() if not row.biometric} == {"text"}
