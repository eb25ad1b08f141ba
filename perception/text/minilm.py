"""The default text perceiver: MiniLM features, small trained heads, dialogue context, VADER and cue patterns.

Each part does what it is best at: the heads read which emotion and how pleasant / aroused the words are, the
dialogue context carries a speaker's state across turns, VADER adds a cheap valence signal the VAD head was trained
with, and the cue patterns both add evidence for complex states the training data lacks (boredom, doubt) and say in
quotable words why a state was seen. Intents come from patterns plus example sentences compared on the same
embedding. Long turns are read through a bounded excerpt, and emoji, sarcasm and other languages are folded in
afterwards (:mod:`.analysis`).
"""

from __future__ import annotations

import math
import threading
from pathlib import Path

import numpy as np
from empathic.perception.estimates import Cue, Intent, ModalityEstimate
from empathic.perception.labels import BASIC_EMOTIONS, COMPLEX_STATES
from empathic.perception.observations import Observation, TextTurn
from empathic.perception.perceiver import BlockingPerceiver, PerceiverCapabilities
from empathic.perception.registry import ModelRegistry, default_registry
from empathic.perception.text.analysis import TurnReading, finish, read_turn
from empathic.perception.text.context import DialogueContext
from empathic.perception.text.embedder import DIM, MiniLMEmbedder
from empathic.perception.text.heads import TextHeads
from empathic.perception.text.intents import IntentModel, merge
from empathic.perception.text.sentiment import Polarity

DEFAULT_HEADS = "minilm-text-heads"
_SENTENCE_LAYER = 6
"""The layer whose mean-pooled output is the sentence embedding the intent examples are compared on."""
_MAX_ENTROPY = math.log(len(BASIC_EMOTIONS))


_INTENT_MODELS: dict[tuple[Path, str], IntentModel] = {}
_INTENT_LOCK = threading.Lock()


def _shared_intents(embedder: MiniLMEmbedder) -> IntentModel:
    """The example sentences are embedded once per process and model (base weights and adapter), not per session."""
    with _INTENT_LOCK:
        key = (embedder.model_dir, embedder.adapter.digest if embedder.adapter else "")
        if key not in _INTENT_MODELS:
            _INTENT_MODELS[key] = IntentModel.fit(lambda xs: embedder.encode(xs, layers=(_SENTENCE_LAYER,)))
        return _INTENT_MODELS[key]


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
        self.embedder = embedder or MiniLMEmbedder(registry=reg, adapter=self.heads.adapter)
        if self.embedder.adapter is not self.heads.adapter:
            raise ValueError(f"{heads_id} needs the MiniLM embedder built with its own adapter (heads.adapter)")
        self.capabilities = PerceiverCapabilities(
            modality="text", accepts=(TextTurn,), commercial_use=spec.commercial_use
        )
        self._intents: IntentModel | None = None
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
        text = turn.text.strip()
        if text and self._use_context:
            log_probs = self.heads.emotion_logits(self._features(read_turn(text))[0])[0]
            with self._lock:
                self._context.add(_speaker(turn), log_probs)

    def estimate(self, turn: TextTurn) -> ModalityEstimate:
        """Read one turn in the context of the turns seen before; ``turn.meta['speaker_id']`` overrides the speaker
        (for corpora with named speakers)."""
        text = turn.text.strip()
        if not text:
            return ModalityEstimate.unknown("text", turn.t, "empty text", self.name)
        reading = read_turn(text)
        z, sentence = self._features(reading)
        alone = self.heads.emotion_logits(z)[0]
        speaker = _speaker(turn)
        with self._lock:
            probs = self._context.read(speaker, alone) if self._use_context else np.exp(alone)
            if self._use_context:
                self._context.add(speaker, alone)
        polarity = reading.polarity
        valence, arousal, _ = self.heads.vad(z, np.array([polarity.compound], np.float32))[0]
        found = reading.found
        cues = list(found.cues)
        top, top_alone = int(probs.argmax()), int(alone.argmax())
        if top != top_alone:
            label = BASIC_EMOTIONS[top]
            cues.append(Cue("dialogue_context", float(probs[top]), "text", f"earlier turns point to {label}", (label,)))
        entropy = -float((probs * np.log(np.maximum(probs, 1e-12))).sum())
        draft = ModalityEstimate(
            modality="text",
            t=turn.t,
            probs=dict(zip(BASIC_EMOTIONS, (float(p) for p in probs / probs.sum()), strict=True)),
            valence=float(valence),
            arousal=float(arousal),
            confidence=_confidence(entropy, len(found.cues)),
            cues=tuple(cues),
            complex_states=self._complex(z, found.support, polarity),
            source=f"{self.name}:{self.heads_id}",
        )
        return finish(reading, draft, self._read_intents(reading, sentence))

    def vad(self, text: str) -> tuple[float, float, float]:
        """Valence, arousal and dominance of ``text`` alone, each in [-1, 1] (0 for an empty text)."""
        text = text.strip()
        if not text:
            return 0.0, 0.0, 0.0
        reading = read_turn(text)
        compound = np.array([reading.polarity.compound], np.float32)
        v, a, d = self.heads.vad(self._features(reading)[0], compound)[0]
        return float(v), float(a), float(d)

    def _features(self, reading: TurnReading) -> tuple[np.ndarray, np.ndarray | None]:
        """Standardised head features of the turn's passages (weighted, each layer re-normalised), and its
        sentence embedding (layer 6) for the intent examples when the heads read that layer."""
        texts, weights = zip(*reading.passages, strict=True)
        raw = self.embedder.encode(list(texts), layers=self.heads.layers)
        mixed = (np.asarray(weights, np.float32)[:, None] * raw).sum(0, keepdims=True)
        blocks = mixed.reshape(1, len(self.heads.layers), DIM)
        blocks /= np.maximum(np.linalg.norm(blocks, axis=2, keepdims=True), 1e-9)
        mixed = blocks.reshape(1, -1)
        sentence = None
        if _SENTENCE_LAYER in self.heads.layers:
            k = self.heads.layers.index(_SENTENCE_LAYER)
            sentence = mixed[0, k * DIM : (k + 1) * DIM]
        return self.heads.standardise(mixed), sentence

    def _read_intents(self, reading: TurnReading, sentence: np.ndarray | None) -> tuple[Intent, ...]:
        """Pattern intents, plus the example sentences' reading of the embedding (fitted on first use)."""
        if sentence is None:
            return reading.intents
        with self._lock:
            if self._intents is None:
                self._intents = _shared_intents(self.embedder)
        return merge(reading.intents, self._intents.predict(sentence))

    def _complex(self, z: np.ndarray, support: dict[str, float], polarity: Polarity) -> dict[str, float]:
        """Head probability and cue support combined as a noisy-OR: either kind of evidence can raise a state.

        Positive and negative wording in one turn (VADER) is extra evidence of mixed feelings."""
        head = dict(zip(self.heads.complex_names, (float(p) for p in self.heads.complex_states(z)[0]), strict=True))
        if polarity.pos > 0.1 and polarity.neg > 0.1:
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
