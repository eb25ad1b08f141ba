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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from empathic.perception.batching import MicroBatcher
from empathic.perception.estimates import Cue, Intent, ModalityEstimate
from empathic.perception.labels import BASIC_EMOTIONS, COMPLEX_STATES
from empathic.perception.observations import Observation, TextTurn
from empathic.perception.perceiver import BlockingPerceiver, PerceiverCapabilities
from empathic.perception.registry import ModelRegistry, default_registry
from empathic.perception.text.adapter import LoraDelta, adapter_digest
from empathic.perception.text.analysis import TurnReading, finish, read_turn
from empathic.perception.text.context import DialogueContext
from empathic.perception.text.embedder import DIM, MiniLMEmbedder
from empathic.perception.text.heads import TextHeads
from empathic.perception.text.intents import IntentModel, merge

DEFAULT_HEADS = "minilm-text-heads"
_SENTENCE_LAYER = 6
"""The layer whose mean-pooled output is the sentence embedding the intent examples are compared on."""
_MAX_ENTROPY = math.log(len(BASIC_EMOTIONS))


@dataclass(frozen=True, slots=True, eq=False)
class TextFeatures:
    """What the shared models read from one turn alone, before any session's dialogue context.

    ``alone`` is the emotion log-probabilities (7,), ``vad`` valence, arousal and dominance, ``complex_states`` the
    heads' and cues' complex states, ``intents`` pattern and example-sentence intents merged.
    """

    reading: TurnReading
    alone: np.ndarray
    vad: tuple[float, float, float]
    complex_states: dict[str, float]
    intents: tuple[Intent, ...]


class MiniLMReader:
    """The stateless, shared half of the MiniLM perceiver: heads, the embedder and the intent examples.

    :meth:`read` takes a list of texts and embeds every passage of every text in one forward pass, so many
    sessions' turns cost one model call (see :func:`shared_reader` and its :class:`MicroBatcher`).
    """

    def __init__(self, heads_id: str, registry: ModelRegistry, embedder: MiniLMEmbedder | None = None) -> None:
        self.heads_id = heads_id
        self.spec = registry.spec(heads_id)
        self.heads = TextHeads.load(registry.file(heads_id))
        self.embedder = embedder or MiniLMEmbedder(registry=registry, adapter=self.heads.adapter)
        if adapter_digest(self.embedder.adapter) != adapter_digest(self.heads.adapter):
            raise ValueError(f"{heads_id} needs the MiniLM embedder built with its own adapter (heads.adapter)")
        self._intents: IntentModel | None = None
        self._lock = threading.Lock()
        self.batcher: MicroBatcher[str, TextFeatures] = MicroBatcher(self.read, name=f"text-{heads_id}")

    @property
    def intents(self) -> IntentModel:
        """The example sentences, embedded once on first use."""
        with self._lock:
            if self._intents is None:
                self._intents = IntentModel.fit(lambda xs: self.embedder.encode(xs, layers=(_SENTENCE_LAYER,)))
            return self._intents

    def read(self, texts: list[str]) -> list[TextFeatures]:
        """Each (stripped, non-empty) text read alone; every passage of every text goes through one forward pass."""
        readings = [read_turn(t) for t in texts]
        passages = [p for r in readings for p in r.passages]
        raw = self.embedder.encode([text for text, _ in passages], layers=self.heads.layers)
        mixed = np.zeros((len(texts), raw.shape[1]), np.float32)
        row = 0
        for i, r in enumerate(readings):
            weights = np.asarray([w for _, w in r.passages], np.float32)
            mixed[i] = (weights[:, None] * raw[row : row + len(weights)]).sum(0)
            row += len(weights)
        blocks = mixed.reshape(len(texts), len(self.heads.layers), DIM)
        blocks /= np.maximum(np.linalg.norm(blocks, axis=2, keepdims=True), 1e-9)
        mixed = blocks.reshape(len(texts), -1)
        z = self.heads.standardise(mixed)
        alone = self.heads.emotion_logits(z)
        compound = np.array([r.polarity.compound for r in readings], np.float32)
        vad = self.heads.vad(z, compound)
        heads_complex = self.heads.complex_states(z)
        sentence = None
        if _SENTENCE_LAYER in self.heads.layers:
            k = self.heads.layers.index(_SENTENCE_LAYER)
            sentence = mixed[:, k * DIM : (k + 1) * DIM]
        out = []
        for i, r in enumerate(readings):
            intents = r.intents if sentence is None else merge(r.intents, self.intents.predict(sentence[i]))
            v, a, d = (float(x) for x in vad[i])
            out.append(TextFeatures(r, alone[i], (v, a, d), self._complex(heads_complex[i], r), intents))
        return out

    def _complex(self, head_probs: np.ndarray, reading: TurnReading) -> dict[str, float]:
        """Head probability and cue support combined as a noisy-OR: either kind of evidence can raise a state.

        Positive and negative wording in one turn (VADER) is extra evidence of mixed feelings."""
        head = dict(zip(self.heads.complex_names, (float(p) for p in head_probs), strict=True))
        support, polarity = reading.found.support, reading.polarity
        if polarity.pos > 0.1 and polarity.neg > 0.1:
            support = support | {"mixed": 1.0 - (1.0 - support.get("mixed", 0.0)) * 0.55}
        out = {}
        for state in COMPLEX_STATES:
            h, c = head.get(state, 0.0), support.get(state, 0.0)
            if state in head or state in support:
                out[state] = round(1.0 - (1.0 - h) * (1.0 - c), 4)
        return out


def heads_adapter(heads_id: str = DEFAULT_HEADS, registry: ModelRegistry | None = None) -> LoraDelta | None:
    """The encoder delta ``heads_id`` was trained with: an embedder serving those heads must use it too."""
    return TextHeads.load((registry or default_registry()).file(heads_id)).adapter


_READERS: dict[tuple[str, Path, Path, MiniLMEmbedder | None], MiniLMReader] = {}
_READERS_LOCK = threading.Lock()


def shared_reader(
    heads_id: str = DEFAULT_HEADS, registry: ModelRegistry | None = None, embedder: MiniLMEmbedder | None = None
) -> MiniLMReader:
    """One reader (heads, intent examples, batching worker) per process, heads, models folder and embedder (default:
    the in-process MiniLM; the Ray backend passes its served one): sessions share it, so the intent examples are
    embedded once, not per session, and concurrent turns of several sessions go through one forward pass."""
    reg = registry or default_registry()
    key = (heads_id, reg.file(heads_id), reg.root, embedder)
    with _READERS_LOCK:
        if key not in _READERS:
            _READERS[key] = MiniLMReader(heads_id, reg, embedder)
        return _READERS[key]


class MiniLMTextPerceiver(BlockingPerceiver):
    """Reads user turns with the trained heads; remembers every turn it sees (user and agent) for context.

    ``heads_id`` names a registry entry (``minilm-text-heads``: permissive data, the default;
    ``minilm-text-heads-tuned``: the same data through a fine-tuned encoder; ``minilm-text-heads-dialogue``: also
    Friends transcripts, research use only). ``context_turns`` bounds the
    history; 0 reads every turn alone. The models are shared by every perceiver of the process that uses the same
    ``embedder`` (see :func:`shared_reader`); a perceiver holds only its dialogue history. The MiniLM model loads on
    the first turn.
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
        self.reader = shared_reader(heads_id, registry, embedder)
        self.heads_id = heads_id
        self.capabilities = PerceiverCapabilities(
            modality="text", accepts=(TextTurn,), commercial_use=self.reader.spec.commercial_use
        )
        heads = self.reader.heads
        self._context = DialogueContext(heads.carry, heads.react, max_turns=max(1, context_turns))
        self._use_context = context_turns > 0
        self._lock = threading.Lock()

    @property
    def model_dir(self) -> Path:
        """The verified MiniLM folder; raises when the model is missing, so callers can fall back early."""
        return self.reader.embedder.model_dir

    def reset(self) -> None:
        """Forget the dialogue history (a new conversation starts)."""
        with self._lock:
            self._context.clear()

    async def perceive(self, obs: Observation) -> ModalityEstimate | None:
        """The turn joins the shared reader's next batch; only the dialogue context is this session's work."""
        if not isinstance(obs, TextTurn):
            return None
        text = obs.text.strip()
        if not text:
            return self._read(obs, None)
        return self._read(obs, await self.reader.batcher.run(text))

    def predict(self, obs: Observation) -> ModalityEstimate | None:
        if not isinstance(obs, TextTurn):
            return None
        text = obs.text.strip()
        return self._read(obs, self.reader.read([text])[0] if text else None)

    def _read(self, turn: TextTurn, features: TextFeatures | None) -> ModalityEstimate | None:
        """A user turn's estimate; another speaker's turn is only remembered (for the reaction effect)."""
        if turn.speaker != "user":
            if features is not None and self._use_context:
                with self._lock:
                    self._context.add(_speaker(turn), features.alone)
            return None
        if features is None:
            return ModalityEstimate.unknown("text", turn.t, "empty text", self.name)
        return self._in_context(turn, features)

    def estimate(self, turn: TextTurn) -> ModalityEstimate:
        """Read one turn in the context of the turns seen before; ``turn.meta['speaker_id']`` overrides the speaker
        (for corpora with named speakers)."""
        text = turn.text.strip()
        if not text:
            return ModalityEstimate.unknown("text", turn.t, "empty text", self.name)
        return self._in_context(turn, self.reader.read([text])[0])

    def _in_context(self, turn: TextTurn, features: TextFeatures) -> ModalityEstimate:
        alone = features.alone
        speaker = _speaker(turn)
        with self._lock:
            probs = self._context.read(speaker, alone) if self._use_context else np.exp(alone)
            if self._use_context:
                self._context.add(speaker, alone)
        reading = features.reading
        cues = list(reading.found.cues)
        top, top_alone = int(probs.argmax()), int(alone.argmax())
        if top != top_alone:
            label = BASIC_EMOTIONS[top]
            cues.append(Cue("dialogue_context", float(probs[top]), "text", f"earlier turns point to {label}", (label,)))
        entropy = -float((probs * np.log(np.maximum(probs, 1e-12))).sum())
        valence, arousal, _ = features.vad
        draft = ModalityEstimate(
            modality="text",
            t=turn.t,
            probs=dict(zip(BASIC_EMOTIONS, (float(p) for p in probs / probs.sum()), strict=True)),
            valence=valence,
            arousal=arousal,
            confidence=_confidence(entropy, len(reading.found.cues)),
            cues=tuple(cues),
            complex_states=features.complex_states,
            source=f"{self.name}:{self.heads_id}",
        )
        return finish(reading, draft, features.intents)

    def vad(self, text: str) -> tuple[float, float, float]:
        """Valence, arousal and dominance of ``text`` alone, each in [-1, 1] (0 for an empty text)."""
        text = text.strip()
        return self.reader.read([text])[0].vad if text else (0.0, 0.0, 0.0)


def _confidence(entropy: float, n_cues: int) -> float:
    """Peaked distributions and word cues (evidence the embedding may blur) both raise confidence; capped at 0.85
    because a sentence alone never settles how someone feels."""
    return round(min(0.85, 0.3 + 0.6 * (1.0 - entropy / _MAX_ENTROPY) + 0.05 * n_cues), 4)


def _speaker(turn: TextTurn) -> str:
    return str(turn.meta.get("speaker_id", turn.speaker))
