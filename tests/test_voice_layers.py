"""Whisper's lower encoder layers through cut-down CTranslate2 copies of the registry's whisper-base."""

import logging

import numpy as np
import pytest
from empathic.perception.registry import default_registry
from empathic.perception.voice.asr import EMOTION_LAYERS, FasterWhisperBackend
from empathic.perception.voice.encoder_layers import LowerLayers, cut_model, prefix_folder


def linked_models(root):
    """whisper-base's files linked into a fresh models folder, so the cut copies are made beside them there."""
    source = default_registry().resolve("whisper-base-ct2")
    folder = root / source.name
    folder.mkdir(parents=True)
    for f in source.iterdir():
        (folder / f.name).symlink_to(f)
    return folder


@pytest.fixture(scope="module")
def whisper(tmp_path_factory):
    return linked_models(tmp_path_factory.mktemp("models"))


def mel(frames=400):
    return np.random.default_rng(0).standard_normal((80, frames)).astype(np.float32)


def test_an_encoder_cut_after_its_last_layer_is_the_whole_encoder(whisper):
    import ctranslate2

    whole = ctranslate2.models.Whisper(str(whisper), compute_type="int8")
    view = ctranslate2.StorageView.from_array(mel()[None])
    last = np.asarray(whole.encode(view, to_cpu=True))[0]
    six, two = LowerLayers(whisper, (6, 2), "cpu", "int8", 1).states(mel())
    np.testing.assert_array_equal(six, last)
    assert two.shape == last.shape == (200, 512)
    assert np.abs(two - last).mean() > 0.1  # layer 2 is not the last layer


def test_a_cut_copy_is_made_once_and_made_again_when_damaged(whisper, tmp_path):
    path = prefix_folder(whisper, 2) / "model.bin"
    before = LowerLayers(whisper, (2,), "cpu", "int8", 1).states(mel())[0]
    made = path.stat().st_mtime_ns
    assert (prefix_folder(whisper, 2) / "model.bin").stat().st_mtime_ns == made  # reused
    with path.open("r+b") as f:
        f.seek(path.stat().st_size // 2)
        f.write(b"\x00" * 64)
    after = LowerLayers(whisper, (2,), "cpu", "int8", 1).states(mel())[0]
    np.testing.assert_array_equal(after, before)
    with pytest.raises(ValueError, match="has 6 encoder layers"):
        cut_model(whisper / "model.bin", tmp_path / "model.bin", 7)
    with pytest.raises(ValueError, match="model format"):
        cut_model(path.with_suffix(".bin.sha256"), tmp_path / "model.bin", 2)


def test_the_emotion_embedding_pools_the_lower_layers_or_is_left_out(whisper, tmp_path, caplog):
    audio = (0.1 * np.sin(2 * np.pi * 180 * np.arange(32000) / 16000)).astype(np.float32)
    backend = FasterWhisperBackend(whisper, word_timestamps=False)
    embedding = backend.embed(audio)
    assert embedding.shape == (1264 + 2 * 512 * len(EMOTION_LAYERS),)
    lower = LowerLayers(whisper, EMOTION_LAYERS, "cpu", "int8", 1).states(backend.encode(audio)[0])
    n = audio.size // 320  # states over the audio, not the padding
    np.testing.assert_allclose(embedding[1264:1776], lower[0][:n].mean(axis=0), atol=1e-5)

    cramped = linked_models(tmp_path / "models")
    (cramped.parent / ".ct2").write_text("a file where the cut copies would go")
    with caplog.at_level(logging.WARNING):
        without = FasterWhisperBackend(cramped, word_timestamps=False)
    assert without.lower is None and "no vocal-emotion embedding" in caplog.text
    heard = without.transcribe(audio)
    assert heard.embedding is None and heard.language  # still transcribes


def test_a_prosody_only_pipeline_does_not_run_the_lower_layers():
    from empathic.agent.session.build import speech_config
    from empathic.agent.session.settings import Settings
    from empathic.perception.voice.pipeline import SpeechPipeline, VoiceConfig

    tone = (0.1 * np.sin(2 * np.pi * 180 * np.arange(16000) / 16000)).astype(np.float32)
    prosody = SpeechPipeline(VoiceConfig(emotion="prosody")).backend
    assert prosody.lower is None and prosody.transcribe(tone).embedding is None
    assert SpeechPipeline(VoiceConfig()).backend.lower is not None
    commercial = Settings.model_validate({"compliance": {"commercial_use": True}})
    assert speech_config(commercial).emotion == "prosody" and speech_config(Settings()).emotion == "head"
