"""A light text perceiver: VADER valence plus the cue patterns. No weights, well under a millisecond per turn.

It is the fallback when no trained text model is installed, and the source of word-level cues that explain
what a heavier model decided. Long turns, emoji, sarcasm and other languages are handled as in
:mod:`.analysis`, the same as for the MiniLM perceiver.
"""

from __future__ import annotations

import asyncio

from empathic.perception.estimates import ModalityEstimate
from empathic.perception.labels import COMPLEX_STATES, valence_arousal
from empathic.perception.observations import Observation, TextTurn
from empathic.perception.perceiver import PerceiverCapabilities
from empathic.perception.text.analysis import finish, read_turn

_NEGATIVE = ("angry", "sad", "fear", "disgust")
# How negative wording splits when no word names the emotion: disappointment is likelier than rage.
_NEGATIVE_PRIOR = {"angry": 0.3, "sad": 0.45, "fear": 0.1, "disgust": 0.15}


class LexiconTextPerceiver:
    """VADER compound score for valence, cue words for which emotion and which complex states."""

    name = "text-lexicon"
    capabilities = PerceiverCapabilities(modality="text", accepts=(TextTurn,))

    async def perceive(self, obs: Observation) -> ModalityEstimate | None:
        """In a worker thread: a 4,000-character turn takes tens of milliseconds, too long to hold the event loop."""
        if not isinstance(obs, TextTurn) or obs.speaker != "user":
            return None
        return await asyncio.to_thread(self.estimate, obs)

    def estimate(self, turn: TextTurn) -> ModalityEstimate:
        text = turn.text.strip()
        if not text:
            return ModalityEstimate.unknown("text", turn.t, "empty text", self.name)
        reading = read_turn(text)
        compound = reading.polarity.compound
        found = reading.found
        support = found.support
        emotional = min(
            1.0,
            abs(compound) * 0.9 + max((support.get(e, 0.0) for e in (*_NEGATIVE, "happy")), default=0.0) * 0.5,
        )
        probs = dict.fromkeys(("neutral", "happy", "sad", "angry", "fear", "disgust", "surprise"), 0.0)
        probs["surprise"] = support.get("surprise", 0.0) * 0.5
        if compound >= 0.05 or (compound > -0.05 and support.get("happy", 0.0) > 0):
            probs["happy"] = emotional
        else:
            weights = {e: _NEGATIVE_PRIOR[e] + 2.0 * support.get(e, 0.0) for e in _NEGATIVE}
            weights["angry"] += support.get("frustration", 0.0)
            total = sum(weights.values())
            for e in _NEGATIVE:
                probs[e] = emotional * weights[e] / total
        probs["neutral"] = max(0.0, 1.0 - sum(probs.values()))
        norm = sum(probs.values())
        probs = {e: p / norm for e, p in probs.items()}
        _, arousal = valence_arousal(probs)
        arousal += 0.15 * min(found.exclamations, 3) + 0.4 * found.caps_ratio
        complex_states = {s: support[s] for s in COMPLEX_STATES if s in support}
        if "mixed" in complex_states:
            both = reading.polarity.pos > 0.1 and reading.polarity.neg > 0.1
            complex_states["mixed"] = min(1.0, complex_states["mixed"] + (0.45 if both else 0.0))
        confidence = min(0.7, 0.25 + 0.5 * abs(compound) + 0.15 * len(found.cues))
        draft = ModalityEstimate(
            modality="text",
            t=turn.t,
            probs=probs,
            valence=max(-1.0, min(1.0, compound)),
            arousal=max(-1.0, min(1.0, arousal)),
            confidence=confidence,
            cues=found.cues,
            complex_states=complex_states,
            source=self.name,
        )
        return finish(reading, draft)
