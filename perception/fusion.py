"""Late fusion of modality estimates into one :class:`EmotionState`.

Each estimate counts with weight ``confidence x reliability(modality) x 0.5 ** (age / half_life(modality))``: the
age is measured in media time, so irregular frame intervals are handled exactly and replaying the same estimates
in any order gives the same state. A neutral prior with a small fixed weight keeps the state near neutral until
evidence arrives, and pulls it back there as the evidence ages. Estimates older than ``stale_after`` drop out.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import replace
from typing import Protocol

from pydantic import BaseModel, Field

from perception.estimates import Cue, EmotionState, ModalityEstimate
from perception.labels import BASIC_EMOTIONS, COMPLEX_STATES

_NEUTRAL = {e: float(e == "neutral") for e in BASIC_EMOTIONS}


class Fuser(Protocol):
    def update(self, estimate: ModalityEstimate) -> None: ...

    def state(self, now: float) -> EmotionState: ...

    def reset(self) -> None: ...

    def forget(self, modality: str) -> None: ...


class FusionConfig(BaseModel):
    """How much each modality is trusted and how fast its evidence fades (seconds of media time)."""

    reliability: dict[str, float] = Field(default_factory=lambda: {"face": 1.0, "voice": 0.8, "text": 0.9, "body": 0.4})
    half_life_s: dict[str, float] = Field(default_factory=lambda: {"face": 0.6, "body": 1.5, "voice": 4.0, "text": 4.0})
    stale_after_s: dict[str, float] = Field(
        default_factory=lambda: {"face": 2.0, "body": 5.0, "voice": 15.0, "text": 20.0}
    )
    default_reliability: float = 0.5
    default_half_life_s: float = 2.0
    prior_weight: float = Field(0.05, ge=0.0)
    max_cues: int = Field(5, ge=0)
    per_modality_window: int = Field(64, ge=1)


class WeightedFuser:
    """Reliability- and recency-weighted average of the estimates still in their window."""

    def __init__(self, config: FusionConfig | None = None) -> None:
        self.config = config or FusionConfig()
        self._recent: dict[str, deque[ModalityEstimate]] = {}
        self._reasons: dict[str, str] = {}

    def reset(self) -> None:
        self._recent.clear()
        self._reasons.clear()

    def forget(self, modality: str) -> None:
        """Drop everything derived from one modality (consent revoked, data deleted)."""
        self._recent.pop(modality, None)
        self._reasons.pop(modality, None)

    def update(self, estimate: ModalityEstimate) -> None:
        if estimate.confidence <= 0.0:
            self._reasons[estimate.modality] = estimate.reason or "no usable evidence"
            return
        self._reasons.pop(estimate.modality, None)
        window = self._recent.setdefault(estimate.modality, deque(maxlen=self.config.per_modality_window))
        window.append(estimate)

    def _weight(self, est: ModalityEstimate, now: float) -> float:
        cfg = self.config
        age = max(0.0, now - est.t)
        if age > cfg.stale_after_s.get(est.modality, 4 * cfg.default_half_life_s) or est.t > now:
            return 0.0
        half_life = cfg.half_life_s.get(est.modality, cfg.default_half_life_s)
        reliability = cfg.reliability.get(est.modality, cfg.default_reliability)
        return est.confidence * reliability * 0.5 ** (age / half_life)

    def state(self, now: float) -> EmotionState:
        cfg = self.config
        probs = {e: cfg.prior_weight * _NEUTRAL[e] for e in BASIC_EMOTIONS}
        complex_sum = dict.fromkeys(COMPLEX_STATES, 0.0)
        complex_w = dict.fromkeys(COMPLEX_STATES, cfg.prior_weight)
        va_sum = [0.0, 0.0]
        total = cfg.prior_weight
        per_modality: dict[str, float] = {}
        doubt = 1.0
        cue_scores: dict[tuple[str, str], tuple[float, Cue]] = {}
        for modality, window in self._recent.items():
            strongest = 0.0
            for est in window:
                w = self._weight(est, now)
                if w <= 0.0:
                    continue
                strongest = max(strongest, w)
                per_modality[modality] = per_modality.get(modality, 0.0) + w
                if est.probs:
                    total += w
                    for e, p in est.probs.items():
                        probs[e] += w * p
                    va_sum[0] += w * est.valence
                    va_sum[1] += w * est.arousal
                for s, p in est.complex_states.items():
                    complex_sum[s] += w * p
                    complex_w[s] += w
                for cue in est.cues:
                    key = (modality, cue.name)
                    score = w * cue.value
                    if key not in cue_scores or cue_scores[key][0] < score:
                        cue_scores[key] = (score, cue)
            doubt *= 1.0 - min(strongest, 1.0)
        fused = {e: v / total for e, v in probs.items()}
        complex_states = {s: complex_sum[s] / complex_w[s] for s in COMPLEX_STATES}
        weight = sum(per_modality.values())
        contributions = {m: w / weight for m, w in sorted(per_modality.items())} if weight else {}
        cues = tuple(c for _, c in sorted(cue_scores.values(), key=lambda sc: (-sc[0], sc[1].name)))[: cfg.max_cues]
        state = EmotionState(
            t=now,
            probs=fused,
            complex_states=complex_states,
            valence=_clip(va_sum[0] / total),
            arousal=_clip(va_sum[1] / total),
            confidence=1.0 - doubt,
            contributions=contributions,
            cues=cues,
        )
        return _with_explanation(state, self._reasons)


def _clip(x: float) -> float:
    return max(-1.0, min(1.0, x)) if math.isfinite(x) else 0.0


def _with_explanation(state: EmotionState, reasons: dict[str, str]) -> EmotionState:
    """Put the state into plain words: what it looks like, how sure, and the evidence behind it."""
    parts: list[str] = []
    if state.confidence <= 0.0:
        parts.append("No current evidence, so assuming neutral.")
    else:
        dom = state.dominant
        parts.append(f"Looks {dom} ({state.probs[dom]:.0%}), confidence {state.confidence:.2f}.")
        notable = [s for s in COMPLEX_STATES if state.complex_states.get(s, 0.0) >= 0.4]
        if notable:
            parts.append("Signs of " + ", ".join(f"{s} ({state.complex_states[s]:.2f})" for s in notable) + ".")
        if state.contributions:
            parts.append("Based on " + ", ".join(f"{m} {w:.0%}" for m, w in state.contributions.items()) + ".")
        if state.cues:
            parts.append("Cues: " + "; ".join(f"{c.modality} {c}" for c in state.cues) + ".")
    if reasons:
        parts.append("Unavailable: " + "; ".join(f"{m}: {r}" for m, r in sorted(reasons.items())) + ".")
    return replace(state, explanation=" ".join(parts))
