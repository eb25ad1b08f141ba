"""Any Hugging Face text-classification model as a text perceiver, its labels mapped onto ours.

Emotion models name their classes in many ways (``joy``, ``LABEL_3``, GoEmotions' 28 labels ...). A configurable
map sends each model label to one of our basic emotions or complex states; probability mass of labels mapped to the
same basic emotion adds up, complex states take the strongest of their labels, unmapped labels are dropped.
Nothing is downloaded unless ``local_files_only`` is turned off. Long turns, emoji, sarcasm, other languages and
intents are handled as for the other text perceivers (:mod:`.analysis`); the model reads the bounded excerpt.
"""

from __future__ import annotations

import threading

import numpy as np
from empathic.perception.device import torch_device
from empathic.perception.estimates import Cue, ModalityEstimate
from empathic.perception.labels import BASIC_EMOTIONS, COMPLEX_STATES, valence_arousal
from empathic.perception.observations import Observation, TextTurn
from empathic.perception.perceiver import BlockingPerceiver, PerceiverCapabilities
from empathic.perception.text.analysis import finish, read_turn
from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_LABEL_MAP: dict[str, str] = {
    **{e: e for e in BASIC_EMOTIONS},
    **{s: s for s in COMPLEX_STATES},
    "anger": "angry",
    "annoyance": "frustration",
    "disappointment": "sad",
    "disapproval": "skepticism",
    "joy": "happy",
    "happiness": "happy",
    "amusement": "happy",
    "excitement": "happy",
    "gratitude": "happy",
    "love": "happy",
    "admiration": "happy",
    "optimism": "happy",
    "sadness": "sad",
    "grief": "sad",
    "remorse": "sad",
    "fearful": "fear",
    "nervousness": "fear",
    "surprised": "surprise",
    "realization": "contemplation",
    "curiosity": "interest",
    "disgusted": "disgust",
}
"""Label names of common emotion models (j-hartmann's distilroberta, GoEmotions models) onto ours."""


class TransformersTextConfig(BaseModel):
    """Which model to run and how its labels map onto ours."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(..., min_length=1, description="hub model id or local folder of a text-classification model")
    label_map: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_LABEL_MAP))
    multi_label: bool | None = Field(None, description="sigmoid per label; None: as the model's config says")
    max_length: int = Field(256, ge=8, le=4096, description="tokens read per turn; the rest is truncated")
    local_files_only: bool = Field(True, description="never download; set False to allow fetching from the hub")
    commercial_use: bool = Field(True, description="False when the model's license forbids commercial use")

    @field_validator("label_map")
    @classmethod
    def _targets_known(cls, value: dict[str, str]) -> dict[str, str]:
        allowed = set(BASIC_EMOTIONS) | set(COMPLEX_STATES)
        bad = {k: v for k, v in value.items() if v not in allowed}
        if bad:
            raise ValueError(f"label_map targets must be basic emotions or complex states, got {bad}")
        return {k.lower(): v for k, v in value.items()}


class TransformersTextPerceiver(BlockingPerceiver):
    """A Hugging Face sequence classifier read through :class:`TransformersTextConfig`; loads on first use."""

    name = "text-transformers"

    def __init__(self, config: TransformersTextConfig) -> None:
        self.config = config
        self.capabilities = PerceiverCapabilities(
            modality="text", accepts=(TextTurn,), commercial_use=config.commercial_use
        )
        self._lock = threading.Lock()
        self._loaded: tuple[object, object, list[str], bool] | None = None

    def _load(self) -> tuple[object, object, list[str], bool]:
        with self._lock:
            if self._loaded is None:
                from transformers import AutoModelForSequenceClassification, AutoTokenizer

                kw = {"local_files_only": self.config.local_files_only}
                tokenizer = AutoTokenizer.from_pretrained(self.config.model, **kw)
                model = AutoModelForSequenceClassification.from_pretrained(self.config.model, **kw)
                model.to(torch_device()).eval()
                cfg = model.config
                labels = [str(cfg.id2label[i]).lower() for i in range(cfg.num_labels)]
                multi = self.config.multi_label
                if multi is None:
                    multi = cfg.problem_type == "multi_label_classification"
                if not any(lab in self.config.label_map for lab in labels):
                    raise ValueError(
                        f"none of the labels of {self.config.model} ({labels}) is in label_map; map them explicitly"
                    )
                self._loaded = (tokenizer, model, labels, multi)
        return self._loaded

    def predict(self, obs: Observation) -> ModalityEstimate | None:
        return self.estimate(obs) if isinstance(obs, TextTurn) and obs.speaker == "user" else None

    def label_scores(self, text: str) -> dict[str, float]:
        """The model's own labels and their probabilities for ``text``."""
        import torch

        tokenizer, model, labels, multi = self._load()
        enc = tokenizer(text, truncation=True, max_length=self.config.max_length, return_tensors="pt").to(model.device)  # type: ignore[operator,attr-defined]
        with torch.inference_mode():
            logits = model(**enc).logits[0].float()  # type: ignore[operator]
        scores = torch.sigmoid(logits) if multi else torch.softmax(logits, dim=0)
        return dict(zip(labels, scores.tolist(), strict=True))

    def estimate(self, turn: TextTurn) -> ModalityEstimate:
        text = turn.text.strip()
        if not text:
            return ModalityEstimate.unknown("text", turn.t, "empty text", self.name)
        reading = read_turn(text)
        scores = self.label_scores(reading.text)
        basic = dict.fromkeys(BASIC_EMOTIONS, 0.0)
        complex_states: dict[str, float] = {}
        for label, score in scores.items():
            target = self.config.label_map.get(label)
            if target in basic:
                basic[target] += score
            elif target is not None:
                complex_states[target] = max(complex_states.get(target, 0.0), min(1.0, score))
        total = sum(basic.values())
        if total <= 0:
            return ModalityEstimate.unknown("text", turn.t, "no model label maps onto a basic emotion", self.name)
        probs = {e: p / total for e, p in basic.items()}
        valence, arousal = valence_arousal(probs)
        top = max(scores, key=scores.__getitem__)
        found = reading.found
        ent = -sum(p * np.log(p) for p in probs.values() if p > 0)
        draft = ModalityEstimate(
            modality="text",
            t=turn.t,
            probs=probs,
            valence=max(-1.0, min(1.0, valence)),
            arousal=max(-1.0, min(1.0, arousal)),
            confidence=round(min(0.9, 0.25 + 0.65 * (1 - ent / np.log(len(BASIC_EMOTIONS)))), 4),
            cues=(*found.cues, Cue("model_label", round(scores[top], 4), "text", top, ())),
            complex_states=complex_states,
            source=f"{self.name}:{self.config.model}",
        )
        return finish(reading, draft)
