"""The compliance guard: where inferring emotions from face or voice is prohibited, it is switched off.

EU AI Act Art. 5(1)(f) prohibits AI systems that infer emotions of natural persons in the areas of workplace and
education institutions, except where intended for medical or safety reasons. In such a deployment only what the
person expresses in words is analysed; face, body and voice emotion inference are off, and the emotion state says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from empathic.perception.modalities import MODALITY_TABLE
from pydantic import BaseModel, ConfigDict, Field

DeploymentContext = Literal["customer_service", "education", "workplace", "healthcare", "personal", "research"]
Purpose = Literal["general", "medical", "safety"]

EU_MEMBER_STATES = frozenset(
    {"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "IE", "IT"}
    | {"LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"}
)
PROHIBITED_CONTEXTS = frozenset({"education", "workplace"})
ALL_MODALITIES = frozenset(MODALITY_TABLE)
WORDS_ONLY = frozenset(m.name for m in MODALITY_TABLE.values() if not m.biometric)


class ComplianceSettings(BaseModel):
    """Where and why the agent is deployed."""

    model_config = ConfigDict(extra="forbid")

    deployment_context: DeploymentContext = "customer_service"
    jurisdiction: str = Field("EU", description="'EU', an EU member state code such as 'DE', or another region")
    purpose: Purpose = Field("general", description="'medical' or 'safety' lift the Art. 5(1)(f) prohibition")
    commercial_use: bool = Field(False, description="refuse model weights whose license forbids commercial use")


@dataclass(frozen=True, slots=True)
class ComplianceDecision:
    """Which modalities may be used for emotion inference, and the notice to show when some may not."""

    allowed_modalities: frozenset[str]
    notice: str = ""

    def allows(self, modality: str) -> bool:
        return modality in self.allowed_modalities


def in_eu(jurisdiction: str) -> bool:
    code = jurisdiction.strip().upper()
    return code == "EU" or code in EU_MEMBER_STATES


def decide(settings: ComplianceSettings) -> ComplianceDecision:
    """Apply the prohibition: EU x (education | workplace) x not (medical | safety) -> words only."""
    if (
        in_eu(settings.jurisdiction)
        and settings.deployment_context in PROHIBITED_CONTEXTS
        and settings.purpose == "general"
    ):
        return ComplianceDecision(
            WORDS_ONLY,
            f"face and voice emotion inference is off: prohibited in {settings.deployment_context} settings "
            f"under EU AI Act Art. 5(1)(f); only what you say in words is used",
        )
    return ComplianceDecision(ALL_MODALITIES)
