import numpy as np
import pytest
from empathic.perception import AudioChunk, ObservationError, TextTurn, VideoFrame


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((4, 4, 3), dtype=np.float32),
        np.zeros((4, 4, 4), dtype=np.uint8),
        np.zeros((0, 4, 3), dtype=np.uint8),
        np.zeros((4,), dtype=np.uint8),
        [[0, 0]],
    ],
)
def test_malformed_frames_raise_observation_error(image):
    with pytest.raises(ObservationError):
        VideoFrame(0.0, image)


def test_frame_accepts_rgb_and_grey():
    assert VideoFrame(1.0, np.zeros((480, 640, 3), np.uint8)).size == (640, 480)
    assert VideoFrame(1.0, np.zeros((48, 48), np.uint8)).size == (48, 48)


@pytest.mark.parametrize("t", [-1.0, float("nan"), float("inf")])
def test_bad_timestamps_raise(t):
    with pytest.raises(ObservationError):
        TextTurn(t, "hi")


@pytest.mark.parametrize(
    ("samples", "rate"),
    [
        (np.zeros(0, np.int16), 16000),
        (np.zeros(10, np.int16), 0),
        (np.array(["a"]), 16000),
        (np.zeros((2, 2, 2), np.float32), 16000),
    ],
)
def test_malformed_audio_raises(samples, rate):
    with pytest.raises(ObservationError):
        AudioChunk(0.0, samples, rate)


def test_mono_float_scales_pcm_and_mixes_channels():
    pcm = np.array([[32767, -32768], [0, 0]], dtype=np.int16)
    x = AudioChunk(0.0, pcm, 8000).mono_float()
    assert x.dtype == np.float32
    assert x.shape == (2,)
    assert abs(x[0]) < 1e-3  # +1 and -1 mixed to silence
    loud = AudioChunk(0.0, np.array([32767, -32768], np.int16), 8000).mono_float()
    assert loud[0] == pytest.approx(1.0, abs=1e-4) and loud[1] == pytest.approx(-1.0)
    nan = AudioChunk(0.0, np.array([np.nan, 2.0], np.float32), 8000).mono_float()
    assert np.isfinite(nan).all() and nan.max() <= 1.0


def test_speaker_is_checked():
    with pytest.raises(ObservationError):
        TextTurn(0.0, "hi", speaker="bot")  # type: ignore[arg-type]
