"""The default text perceiver: MiniLM features, small trained heads, dialogue context, VADER and cue patterns.

Each part does what it is best at: the heads read which emotion and how pleasant / aroused the words are, the
dialogue context carries a speaker's state across turns, VADER adds a cheap valence signal the VAD head was trained
with, and the cue patterns both add evidence for complex states the training data lacks (boredom, doubt) and say in
quotable words why a state was seen.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path

import numpy as np
from empathic.perception.estimates import Cue, ModalityEstimate
from empathic.perception.labels import BASIC_EMOTIONS, COMPLEX_STATES
from empathic.perception.observations import Observation, TextTurn
from empathic.perception.perceiver import BlockingPerceiver, PerceiverCapabilities
from empathic.perception.registry import ModelRegistry, default_registry
from empathic.perception.text.context import DialogueContext
from empathic.perception.text.cues import find_cues
from empathic.perception.text.embedder import MiniLMEmbedder
from empathic.perception.text.heads import TextHeads
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

DEFAULT_HEADS = "minilm-text-heads"
MAX_CHARS = 4000
"""Longer turns are cut before any processing: the model reads 128 tokens anyway and regexes stay bounded."""
_MAX_ENTROPY = math.log(len(BASIC_EMOTIONS))


class MiniLMTextPerceiver(BlockingPerceiver):
    """Reads user turns with the trained heads; remembers every turn it sees (user and agent) for context.

    ``heads_id`` names a registry entry (``minilm-text-heads``: permissive data, the default;
    ``minilm-text-heads-dialogue``: also Friends transcripts, research use only). ``context_turns`` bounds the
    history; 0 reads every turn alone. The MiniLM model loads on the first turn.
    """

    name = "text-minilm"

    def __init__(
        self,
        heads_id: str = DEFAULT_HEADS,
        *,
        registry: ModelRegistry | None = None,
        embedder: MiniLMEmbedder | None = None,
        context_turns: int = 8,
    ) -> None:
        reg = registry or default_registry()
        spec = reg.spec(heads_id)
        self.heads_id = heads_id
        self.heads = TextHeads.load(reg.file(heads_id))
        self.embedder = embedder or MiniLMEmbedder(registry=reg)
        self.capabilities = PerceiverCapabilities(
            modality="text", accepts=(TextTurn,), commercial_use=spec.commercial_use
        )
        self._vader = SentimentIntensityAnalyzer()
        self._context = DialogueContext(self.heads.carry, self.heads.react, max_turns=max(1, context_turns))
        self._use_context = context_turns > 0
        self._lock = threading.Lock()

    @property
    def model_dir(self) -> Path:
        """The verified MiniLM folder; raises when the model is missing, so callers can fall back early."""
        return self.embedder.model_dir

    def reset(self) -> None:
        """Forget the dialogue history (a new conversation starts)."""
        with self._lock:
            self._context.clear()

    def predict(self, obs: Observation) -> ModalityEstimate | None:
        if not isinstance(obs, TextTurn):
            return None
        if obs.speaker != "user":
            self.observe(obs)
            return None
        return self.estimate(obs)

    def observe(self, turn: TextTurn) -> None:
        """Remember a turn without estimating it (the other side's words, for the reaction effect)."""
        text = turn.text.strip()[:MAX_CHARS]
        if text and self._use_context:
            log_probs = self.heads.emotion_logits(self._features(text))[0]
            with self._lock:
                self._context.add(_speaker(turn), log_probs)

    def estimate(self, turn: TextTurn) -> ModalityEstimate:
        """Read one turn in the context of the turns seen before; ``turn.meta['speaker_id']`` overrides the speaker
        (for corpora with named speakers)."""
        text = turn.text.strip()[:MAX_CHARS]
        if not text:
            return ModalityEstimate.unknown("text", turn.t, "empty text", self.name)
        z = self._features(text)
        alone = self.heads.emotion_logits(z)[0]
        speaker = _speaker(turn)
        with self._lock:
            probs = self._context.read(speaker, alone) if self._use_context else np.exp(alone)
            if self._use_context:
                self._context.add(speaker, alone)
        vader = self._vader.polarity_scores(text)
        compound = float(vader["compound"])
        valence, arousal, _ = self.heads.vad(z, np.array([compound], np.float32))[0]
        found = find_cues(text)
        cues = list(found.cues)
        top, top_alone = int(probs.argmax()), int(alone.argmax())
        if top != top_alone:
            label = BASIC_EMOTIONS[top]
            cues.append(Cue("dialogue_context", float(probs[top]), "text", f"earlier turns point to {label}", (label,)))
        entropy = -float((probs * np.log(np.maximum(probs, 1e-12))).sum())
        return ModalityEstimate(
            modality="text",
            t=turn.t,
            probs=dict(zip(BASIC_EMOTIONS, (float(p) for p in probs / probs.sum()), strict=True)),
            valence=float(valence),
            arousal=float(arousal),
            confidence=_confidence(entropy, len(found.cues)),
            cues=tuple(cues),
            complex_states=self._complex(z, found.support, vader),
            source=f"{self.name}:{self.heads_id}",
        )

    def vad(self, text: str) -> tuple[float, float, float]:
        """Valence, arousal and dominance of ``text`` alone, each in [-1, 1] (0 for an empty text)."""
        text = text.strip()[:MAX_CHARS]
        if not text:
            return 0.0, 0.0, 0.0
        compound = np.array([self._vader.polarity_scores(text)["compound"]], np.float32)
        v, a, d = self.heads.vad(self._features(text), compound)[0]
        return float(v), float(a), float(d)

    def _features(self, text: str) -> np.ndarray:
        return self.heads.standardise(self.embedder.encode([text], layers=self.heads.layers))

    def _complex(self, z: np.ndarray, support: dict[str, float], vader: dict[str, float]) -> dict[str, float]:
        """Head probability and cue support combined as a noisy-OR: either kind of evidence can raise a state.

        Positive and negative wording in one turn (VADER) is extra evidence of mixed feelings."""
        head = dict(zip(self.heads.complex_names, (float(p) for p in self.heads.complex_states(z)[0]), strict=True))
        if vader["pos"] > 0.1 and vader["neg"] > 0.1:
            support = support | {"mixed": 1.0 - (1.0 - support.get("mixed", 0.0)) * 0.55}
        out = {}
        for state in COMPLEX_STATES:
            h, c = head.get(state, 0.0), support.get(state, 0.0)
            if state in head or state in support:
                out[state] = round(1.0 - (1.0 - h) * (1.0 - c), 4)
        return out


def _confidence(entropy: float, n_cues: int) -> float:
    """Peaked distributions and word cues (evidence the embedding may blur) both raise confidence; capped at 0.85
    because a sentence alone never settles how someone feels."""
    return round(min(0.85, 0.3 + 0.6 * (1.0 - entropy / _MAX_ENTROPY) + 0.05 * n_cues), 4)


def _speaker(turn: TextTurn) -> str:
    return str(turn.meta.get("speaker_id", turn.speaker))
