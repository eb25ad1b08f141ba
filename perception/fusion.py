"""Late fusion of modality estimates into one calibrated, explainable :class:`EmotionState`.

Weights. Each estimate counts with ``confidence x reliability(modality) x 0.5 ** (age / half_life(modality))``.
Age is media time, so irregular frame intervals are handled exactly and the same estimates in any order give the
same state. Estimates older than ``stale_after`` drop out (no face in view, silence), and a modality whose
distribution contradicts the others is down-weighted (by the Bhattacharyya overlap with them).

Pooling. Within a modality, its fresh estimates are averaged by weight (frames of one face are not independent
evidence). Across modalities each distribution is first calibrated by its own temperature (``calibration``,
fitted on people the modality's model never saw, so an over-sure model on new people does not outvote a well
calibrated one), then averaged by its share of the evidence. An average lets a sure modality settle what an unsure
one leaves open; a product of opinions was tried and rejected: it lets any modality veto a label, so two modalities
that disagree end on a third label neither chose (a compromise the trials punished).

Time. A prior with a small fixed weight pulls the state toward the person's baseline (a slow average of their
own fused states, neutral at first) as evidence ages. The dominant label changes only when another label leads it
by ``hysteresis``, so it does not flicker.

Calibration. The pooled distribution is sharpened or flattened by ``temperature`` in proportion to how many
modalities effectively took part, and ``confidence`` is the probability of the dominant label times the evidence
coverage (how much fresh, reliable evidence there is) raised to ``coverage_exponent``: the chance that the dominant
label is right, and 0 without evidence. The fitted values live in ``fusion_settings.json`` with where they came
from (``empathic eval fusion --nested``, see ``FUSION_CARD.md``).

Complex states are the larger of the perceivers' own scores and the cross-modal rules in
:mod:`perception.complex_rules`.

Cues. ``EmotionState.cues`` are the cues of each modality's newest estimate (the current turn, the current
frame), strongest first; cues of older estimates still in the window count as evidence for the complex states,
and the explanation names the strongest of them as "earlier", never as current.
"""

from __future__ import annotations

import json
import math
from collections import deque
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from empathic.perception.complex_rules import RULES, Evidence
from empathic.perception.estimates import Cue, EmotionState, ModalityEstimate
from empathic.perception.labels import BASIC_EMOTIONS, COMPLEX_STATES, adjective, noun, valence_arousal
from empathic.perception.modalities import MODALITY_TABLE
from empathic.perception.modalities import modality as modality_row
from pydantic import BaseModel, Field

_NEUTRAL = {e: float(e == "neutral") for e in BASIC_EMOTIONS}


class Fuser(Protocol):
    def update(self, estimate: ModalityEstimate) -> None: ...

    def state(self, now: float, said: tuple[str, ...] = ()) -> EmotionState: ...

    def reset(self) -> None: ...

    def forget(self, modality: str) -> None: ...


def _per_modality(column: str) -> dict[str, float]:
    return {name: getattr(row, column) for name, row in MODALITY_TABLE.items()}


SETTINGS_PATH = Path(__file__).with_name("fusion_settings.json")
"""The fitted fusion settings and where they came from (written by ``empathic eval fusion --nested --out``)."""


def fitted_settings(path: Path = SETTINGS_PATH) -> dict[str, object]:
    """The ``settings`` part of a fitted-settings file (its ``source`` part says how they were fitted)."""
    return dict(json.loads(path.read_text(encoding="utf-8"))["settings"])


_FITTED = fitted_settings()


class FusionConfig(BaseModel):
    """How much each modality is trusted, how fast its evidence fades (media seconds), and calibration.

    Reliabilities of the fitted modalities, their calibration temperatures, the temperature and the coverage
    exponent come from ``fusion_settings.json`` (fitted by ``empathic eval fusion --nested``); the other
    modalities keep their rows' defaults in :data:`MODALITY_TABLE`.
    """

    reliability: dict[str, float] = Field(
        default_factory=lambda: _per_modality("reliability") | dict(_FITTED["reliability"])  # type: ignore[call-overload]
    )
    calibration: dict[str, float] = Field(
        default_factory=lambda: dict(_FITTED["calibration"]),  # type: ignore[call-overload]
        description="per-modality temperature applied to its distribution before pooling (> 1 flattens); "
        "fitted on people the modality's model never saw; 1 for a modality not listed",
    )
    half_life_s: dict[str, float] = Field(default_factory=lambda: _per_modality("half_life_s"))
    stale_after_s: dict[str, float] = Field(default_factory=lambda: _per_modality("stale_after_s"))
    neutral_discount: dict[str, float] = Field(
        default_factory=lambda: dict(_FITTED["neutral_discount"]),  # type: ignore[call-overload]
        description="share of a modality's weight on the basic emotions lost in proportion to its neutral "
        "probability: words without emotional content say little about how someone feels (their cues still count)",
    )
    prior_weight: float = Field(0.05, ge=0.0)
    temperature: float = Field(
        default_factory=lambda: float(_FITTED["temperature"]),  # type: ignore[arg-type]
        gt=0.0,
        description="> 1 flattens, < 1 sharpens the pooled distribution, per modality pooled beyond the first",
    )
    coverage_exponent: float = Field(
        default_factory=lambda: float(_FITTED["coverage_exponent"]),  # type: ignore[arg-type]
        ge=0.0,
        description="confidence = P(dominant) x coverage ** this; fitted with the temperature",
    )
    contradiction_floor: float = Field(
        0.25, ge=0.0, le=1.0, description="weight kept by a fully contradicting modality"
    )
    hysteresis: float = Field(0.08, ge=0.0, description="lead a new dominant label needs over the current one")
    context_share: float = Field(
        0.25, ge=0.0, description="at a turn end, most weight a conflicting channel keeps relative to what was said"
    )
    conflict_gap: float = Field(
        0.6, ge=0.0, description="valence gap between a channel and what was said that counts as a conflict"
    )
    baseline_half_life_s: float = Field(120.0, gt=0.0)
    baseline_share: float = Field(0.5, ge=0.0, le=1.0, description="how far the baseline may move from neutral")
    trend_window_s: tuple[float, float] = (4.0, 20.0)
    max_cues: int = Field(5, ge=0)
    per_modality_window: int = Field(64, ge=1)


@dataclass(slots=True)
class _Modality:
    """One modality's fresh evidence, summed."""

    weight: float = 0.0  # all estimates, with or without probabilities
    prob_weight: float = 0.0
    strongest: float = 0.0
    probs: dict[str, float] | None = None
    valence: float = 0.0
    arousal: float = 0.0

    def add(self, est: ModalityEstimate, w: float, neutral_discount: float) -> None:
        self.weight += w
        self.strongest = max(self.strongest, w)
        if not est.probs:
            return
        w *= 1.0 - neutral_discount * est.probs.get("neutral", 0.0)
        if self.probs is None:
            self.probs = dict.fromkeys(BASIC_EMOTIONS, 0.0)
        self.prob_weight += w
        for e, p in est.probs.items():
            self.probs[e] += w * p
        self.valence += w * est.valence
        self.arousal += w * est.arousal

    def normalised(self) -> dict[str, float]:
        assert self.probs is not None
        return {e: v / self.prob_weight for e, v in self.probs.items()}


def _overlap(p: dict[str, float], q: dict[str, float]) -> float:
    """Bhattacharyya coefficient: 1 for equal distributions, 0 for disjoint ones."""
    return sum(math.sqrt(max(p[e], 0.0) * max(q[e], 0.0)) for e in BASIC_EMOTIONS)


def _clip(x: float) -> float:
    return max(-1.0, min(1.0, x)) if math.isfinite(x) else 0.0


def _tempered(probs: dict[str, float], t: float) -> dict[str, float]:
    """``probs ** (1 / t)``, renormalised: ``t`` > 1 flattens, < 1 sharpens, 1 leaves them as they are."""
    if t == 1.0:
        return dict(probs)
    scaled = {e: max(p, 1e-12) ** (1.0 / t) for e, p in probs.items()}
    z = sum(scaled.values())
    return {e: v / z for e, v in scaled.items()}


class WeightedFuser:
    """Reliability-, recency- and agreement-weighted average of the estimates still in their window."""

    def __init__(self, config: FusionConfig | None = None) -> None:
        self.config = config or FusionConfig()
        self.reset()

    def reset(self) -> None:
        self._recent: dict[str, deque[ModalityEstimate]] = {}
        self._reasons: dict[str, str] = {}
        self._history: deque[tuple[float, float]] = deque(maxlen=512)  # (t, fused arousal)
        self._baseline = dict(_NEUTRAL)
        self._baseline_t: float | None = None
        self._label: str | None = None

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
        now = estimate.t
        state = self.state(now)
        self._label = state.dominant
        self._history.append((now, state.arousal))
        self._track_baseline(state, now)

    def _track_baseline(self, state: EmotionState, now: float) -> None:
        """Move the person's baseline slowly toward what they usually show (only on solid evidence)."""
        cfg = self.config
        last = self._baseline_t
        self._baseline_t = now
        if last is None or now <= last or state.confidence < 0.3:
            return
        alpha = 1.0 - 0.5 ** ((now - last) / cfg.baseline_half_life_s)
        for e in BASIC_EMOTIONS:
            target = (1 - cfg.baseline_share) * _NEUTRAL[e] + cfg.baseline_share * state.probs[e]
            self._baseline[e] += alpha * (target - self._baseline[e])

    def _weight(self, est: ModalityEstimate, now: float) -> float:
        cfg = self.config
        age = now - est.t
        row = modality_row(est.modality)
        if age < 0 or age > cfg.stale_after_s.get(est.modality, row.stale_after_s):
            return 0.0
        half_life = cfg.half_life_s.get(est.modality, row.half_life_s)
        reliability = cfg.reliability.get(est.modality, row.reliability)
        return est.confidence * reliability * 0.5 ** (age / half_life)

    def state(self, now: float, said: tuple[str, ...] = ()) -> EmotionState:
        """The fused state at ``now``. ``said`` names the modalities of a turn that ends now (its words, its voice):
        for the reply to that turn they weigh most, and a channel that contradicts them (a smile over angry words)
        is judged against them and kept as context; the conflict itself is reported as evidence."""
        cfg = self.config
        groups: dict[str, _Modality] = {}
        weighted: list[tuple[ModalityEstimate, float]] = []
        for modality, window in self._recent.items():
            for est in window:
                w = self._weight(est, now)
                if w > 0.0:
                    groups.setdefault(modality, _Modality()).add(est, w, cfg.neutral_discount.get(modality, 0.0))
                    weighted.append((est, w))

        factor = self._agreement(groups)
        conflict = self._turn_emphasis(groups, factor, said)
        shares = {m: factor[m] * g.prob_weight for m, g in groups.items() if g.probs is not None}
        evidence_mass = sum(shares.values())
        prior = cfg.prior_weight if evidence_mass or cfg.prior_weight else 1.0  # no evidence: the baseline itself
        mass = prior + evidence_mass
        base_v, base_a = valence_arousal(self._baseline)
        valence, arousal = prior * base_v, prior * base_a
        for m in shares:
            valence += factor[m] * groups[m].valence
            arousal += factor[m] * groups[m].arousal
        pool = self._pool({m: groups[m].normalised() for m in shares}, shares) if evidence_mass else _NEUTRAL
        fused = {e: (prior * self._baseline[e] + evidence_mass * pool[e]) / mass for e in BASIC_EMOTIONS}
        pooled = evidence_mass**2 / sum(w * w for w in shares.values()) if evidence_mass else 0.0
        fused = self._calibrated(fused, pooled)
        valence, arousal = _clip(valence / mass), _clip(arousal / mass)

        complex_sum = dict.fromkeys(COMPLEX_STATES, 0.0)
        complex_w = dict.fromkeys(COMPLEX_STATES, prior)
        cue_best: dict[tuple[str, str], tuple[float, Cue]] = {}
        latest: dict[str, ModalityEstimate] = {}
        for est, w in weighted:
            if est.modality not in latest or est.t >= latest[est.modality].t:
                latest[est.modality] = est
            w *= factor[est.modality]
            for s, p in est.complex_states.items():
                complex_sum[s] += w * p
                complex_w[s] += w
            for cue in est.cues:
                key = (est.modality, cue.name)
                score = min(w, 1.0) * cue.value
                if key not in cue_best or cue_best[key][0] < score:
                    cue_best[key] = (score, cue)
        support: dict[str, float] = {}
        for score, cue in cue_best.values():
            for label in cue.supports:
                support[label] = 1.0 - (1.0 - support.get(label, 0.0)) * (1.0 - min(score, 1.0))
        evidence = Evidence(
            valence=valence,
            arousal=arousal,
            arousal_trend=self._arousal_trend(now, arousal),
            probs=fused,
            cue_support=support,
            modality_valence={m: g.valence / g.prob_weight for m, g in groups.items() if g.prob_weight > 0},
        )
        complex_states = {
            s: min(1.0, max(complex_sum[s] / complex_w[s] if complex_w[s] else 0.0, RULES[s](evidence)))
            for s in COMPLEX_STATES
        }

        coverage = 1.0
        for g in groups.values():
            coverage *= 1.0 - min(g.strongest, 1.0)
        coverage = 1.0 - coverage
        label = self._dominant(fused)
        total = sum(factor[m] * g.weight for m, g in groups.items())
        contributions = {m: factor[m] * g.weight / total for m, g in sorted(groups.items())} if total else {}
        current = {(m, c.name) for m, est in latest.items() for c in est.cues}
        ranked = sorted(cue_best.values(), key=lambda sc: (-sc[0], sc[1].modality, sc[1].name))
        now_cues = [c for _, c in ranked if (c.modality, c.name) in current]
        earlier = [c for _, c in ranked if (c.modality, c.name) not in current and c.name != "language"]
        state = EmotionState(
            t=now,
            probs=fused,
            complex_states=complex_states,
            valence=valence,
            arousal=arousal,
            confidence=coverage**cfg.coverage_exponent * fused[label] if coverage > 0 else 0.0,
            contributions=contributions,
            cues=tuple(now_cues[: cfg.max_cues]),
            dominant_label=label,
        )
        words = latest["text"].cues if "text" in latest else ()
        language = next((c.text for c in words if c.name == "language"), None)
        return _with_explanation(state, self._reasons, factor, earlier[:_EARLIER_CUES], language, conflict)

    def _turn_emphasis(
        self, groups: dict[str, _Modality], factor: dict[str, float], said: tuple[str, ...]
    ) -> list[str]:
        """At a turn end, what was said keeps its full weight; every other channel is weighed by how well it agrees
        with it. Returns the channels whose valence contradicts what was said (politeness, masking, sarcasm)."""
        dists = {m: g.normalised() for m, g in groups.items() if g.probs is not None}
        spoken = [m for m in said if m in dists]
        if not spoken or len(dists) < 2:
            return []
        floor = self.config.contradiction_floor
        total = sum(groups[m].prob_weight for m in spoken)
        mean = {e: sum(groups[m].prob_weight * dists[m][e] for m in spoken) / total for e in BASIC_EMOTIONS}
        said_valence = sum(groups[m].valence for m in spoken) / total
        conflict = []
        for m, p in dists.items():
            if m in spoken:
                factor[m] = 1.0
                continue
            factor[m] = min(factor[m], floor + (1.0 - floor) * _overlap(p, mean) ** 2)
            own = groups[m].valence / groups[m].prob_weight
            if own * said_valence < 0 and abs(own - said_valence) >= self.config.conflict_gap:
                conflict.append(m)  # context, not a verdict: at most a share of what was said, however many frames
                factor[m] = min(factor[m], self.config.context_share * total / groups[m].prob_weight)
        return conflict

    def _agreement(self, groups: dict[str, _Modality]) -> dict[str, float]:
        """Per modality, the weight factor its agreement with the other modalities earns."""
        floor = self.config.contradiction_floor
        dists = {m: g.normalised() for m, g in groups.items() if g.probs is not None}
        factor = dict.fromkeys(groups, 1.0)
        if len(dists) < 2:
            return factor
        for m, p in dists.items():
            others = [(groups[o].prob_weight, q) for o, q in dists.items() if o != m]
            total = sum(w for w, _ in others)
            mean = {e: sum(w * q[e] for w, q in others) / total for e in BASIC_EMOTIONS}
            factor[m] = floor + (1.0 - floor) * _overlap(p, mean)
        # relative: the best-agreeing modality keeps its full weight, so a disagreement shifts weight between the
        # modalities and never toward the prior (which made two dissenting channels settle on a neutral neither said)
        top = max(factor[m] for m in dists)
        return {m: min(1.0, f / top) for m, f in factor.items()}

    def _pool(self, dists: dict[str, dict[str, float]], shares: dict[str, float]) -> dict[str, float]:
        """Each modality's distribution calibrated by its own temperature, averaged by its share of the evidence;
        a single modality comes back unchanged when its temperature is 1."""
        total = sum(shares.values())
        pooled = dict.fromkeys(BASIC_EMOTIONS, 0.0)
        for m, p in dists.items():
            for e, v in _tempered(p, self.config.calibration.get(m, 1.0)).items():
                pooled[e] += shares[m] / total * v
        return pooled

    def _calibrated(self, probs: dict[str, float], pooled: float) -> dict[str, float]:
        """Pooling calibrated opinions keeps one modality's certainty; independent modalities that agree deserve
        more, so the temperature acts in proportion to how many effectively took part (none for one, all of it
        for three equal ones)."""
        return _tempered(probs, self.config.temperature ** (max(pooled - 1.0, 0.0) / 2))

    def _dominant(self, probs: dict[str, float]) -> str:
        top = max(BASIC_EMOTIONS, key=probs.__getitem__)
        held = self._label
        if held is not None and probs[held] >= probs[top] - self.config.hysteresis:
            return held
        return top

    def _arousal_trend(self, now: float, arousal: float) -> float:
        """Arousal now minus its mean a few seconds to a few tens of seconds ago (0 without history)."""
        lo, hi = self.config.trend_window_s
        past = [a for t, a in self._history if lo <= now - t <= hi]
        return arousal - sum(past) / len(past) if past else 0.0


_EARLIER_CUES = 2
"""How many cues of earlier estimates the explanation names (as earlier)."""


def _plain(cue: Cue) -> str:
    name = cue.name.replace("_", " ")
    what = f'"{cue.text}"' if cue.text else f"{cue.value:.2f}"
    why = f" ({', '.join(cue.supports[:2])})" if cue.supports else ""
    return f"{cue.modality or 'unknown'}: {name} {what}{why}"


def _with_explanation(
    state: EmotionState,
    reasons: dict[str, str],
    factor: dict[str, float],
    earlier: list[Cue] | None = None,
    language: str | None = None,
    conflict: list[str] | None = None,
) -> EmotionState:
    """Put the state into plain words: what it looks like, how sure, and the evidence behind it.

    ``earlier`` are cues of older estimates, named as such; ``language`` the code of a current turn in a language
    the text model does not read."""
    parts: list[str] = []
    if not state.contributions:
        parts.append("No current evidence, so assuming the person's usual state.")
    else:
        dom = state.dominant
        parts.append(f"Looks {adjective(dom)} ({state.probs[dom]:.0%}), confidence {state.confidence:.2f}.")
        notable = [s for s in COMPLEX_STATES if state.complex_states.get(s, 0.0) >= 0.4]
        if notable:
            parts.append("Signs of " + ", ".join(f"{noun(s)} ({state.complex_states[s]:.2f})" for s in notable) + ".")
        parts.append("Based on " + ", ".join(f"{m} {w:.0%}" for m, w in state.contributions.items()) + ".")
        doubted = [m for m, f in factor.items() if f < 0.6 and m not in (conflict or ())]
        if conflict:
            names = " and ".join(sorted(conflict))
            verb = "disagree" if len(conflict) > 1 else "disagrees"
            parts.append(
                f"{names.capitalize()} {verb} with what was said (politeness, masking or sarcasm): "
                f"what was said weighs most, the {names} is context."
            )
        if doubted:
            parts.append("Discounted as contradicting the rest: " + ", ".join(sorted(doubted)) + ".")
        if language:
            parts.append(f"Words not in English ({language}): read with low confidence.")
        listed = [c for c in state.cues if c.name != "language"]
        if listed:
            parts.append("Cues: " + "; ".join(_plain(c) for c in listed) + ".")
        if earlier:
            parts.append("Earlier: " + "; ".join(_plain(c) for c in earlier) + ".")
    if reasons:
        parts.append("Unavailable: " + "; ".join(f"{m}: {r}" for m, r in sorted(reasons.items())) + ".")
    return replace(state, explanation=" ".join(parts))
