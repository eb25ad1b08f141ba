"""A piper (VITS) voice run with onnxruntime, phonemes from espeak-ng: no GPL engine inside this package.

Rate sets the model's ``length_scale``; variation scales its ``noise_scale`` (pitch and energy variation) and
``noise_w`` (timing variation). VITS has no pitch input, so pitch is shifted after synthesis by resampling, with
``length_scale`` stretched by the same factor first so the duration comes out as asked.
"""

from __future__ import annotations

import json
import threading
from fractions import Fraction

import numpy as np
from empathic.agent.speech.phonemes import Phonemizer, phoneme_ids
from empathic.agent.speech.prosody import VoiceProsody
from empathic.agent.speech.speaker import Speaker
from empathic.perception.device import onnx_session
from empathic.perception.registry import ModelRegistry, default_registry
from scipy.signal import resample_poly

DEFAULT_VOICE = "piper-joe-medium"


class PiperSpeaker(Speaker):
    """The registry's piper voice ``model_id``; the model loads on first use (about 2 s) or on :meth:`load`."""

    def __init__(self, model_id: str = DEFAULT_VOICE, *, registry: ModelRegistry | None = None, threads: int = 1):
        registry = registry or default_registry()
        onnx = next(f.name for f in registry.spec(model_id).files if f.name.endswith(".onnx"))
        self._model = registry.file(model_id, onnx)
        config = json.loads(registry.file(model_id, onnx + ".json").read_text(encoding="utf-8"))
        self.name = model_id
        self.sample_rate = int(config["audio"]["sample_rate"])
        self.phonemize = Phonemizer(config["espeak"]["voice"])
        self.id_map: dict[str, list[int]] = config["phoneme_id_map"]
        inference = config["inference"]
        self.scales = (float(inference["noise_scale"]), float(inference["length_scale"]), float(inference["noise_w"]))
        self.threads = threads
        self._session = None
        self._lock = threading.Lock()

    def load(self) -> PiperSpeaker:
        with self._lock:
            if self._session is None:
                self._session = onnx_session(self._model, threads=self.threads)
        return self

    def synthesize(self, sentence: str, prosody: VoiceProsody) -> np.ndarray:
        ids = phoneme_ids(self.phonemize(sentence), self.id_map)
        if len(ids) <= 3:  # nothing speakable (symbols only)
            return np.zeros(0, dtype=np.float32)
        shift = Fraction(2 ** (-prosody.pitch_st / 12)).limit_denominator(48)  # output samples per synthesised one
        noise, length, noise_w = self.scales
        scales = np.array(
            [noise * prosody.variation, length / prosody.rate / float(shift), noise_w * prosody.variation],
            dtype=np.float32,
        )
        x = np.array([ids], dtype=np.int64)
        session = self.load()._session
        assert session is not None
        audio = session.run(None, {"input": x, "input_lengths": np.array([x.shape[1]], np.int64), "scales": scales})
        speech = np.asarray(audio[0], dtype=np.float32).reshape(-1)
        if shift != 1:
            speech = resample_poly(speech, shift.numerator, shift.denominator).astype(np.float32)
        return speech
