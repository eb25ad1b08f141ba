"""Audio in: any rate, channel count and sample type becomes 16 kHz mono float; files of many kinds are read."""

import shutil
import subprocess
import wave

import numpy as np
import pytest
from empathic.perception import ObservationError
from empathic.perception.sources import read_audio
from empathic.perception.voice.audio import RATE, check_signal, to_mono16k


def tone(rate, seconds=1.0, f0=220.0, amp=0.5):
    t = np.arange(round(rate * seconds)) / rate
    return (amp * np.sin(2 * np.pi * f0 * t)).astype(np.float64)


@pytest.mark.parametrize(
    ("rate", "dtype", "channels"),
    [(48000, np.int16, 2), (8000, np.uint8, 1), (44100, np.float64, 1), (22050, np.int32, 3), (16000, np.float32, 1)],
)
def test_any_format_becomes_16k_mono_float(rate, dtype, channels):
    x = tone(rate)
    if np.dtype(dtype).kind in "iu":
        info = np.iinfo(dtype)
        x = (x * (info.max - info.min) / 2 + (info.max + info.min + 1) / 2).astype(dtype)
    else:
        x = x.astype(dtype)
    if channels > 1:
        x = np.repeat(x[:, None], channels, axis=1)
    y = to_mono16k(x, rate)
    assert y.dtype == np.float32 and y.ndim == 1
    assert abs(y.size - RATE) <= 2
    assert 0.3 < np.abs(y).max() <= 1.0
    assert np.isfinite(y).all()


def test_nan_and_inf_do_not_poison_the_signal():
    x = tone(16000)
    x[::7] = np.nan
    x[3] = np.inf
    y = to_mono16k(x, 16000)
    assert np.isfinite(y).all()


def test_signal_check_names_silence_and_clipping():
    assert check_signal(np.zeros(16000, np.float32)).reason == "silence"
    clipped = np.sign(tone(16000, amp=1.0)).astype(np.float32)
    assert "clipped" in check_signal(clipped).reason
    assert check_signal(tone(16000).astype(np.float32)).usable
    assert check_signal(np.zeros(0, np.float32)).reason == "no samples"
    with pytest.raises(ObservationError):
        check_signal(np.array([np.nan], np.float32))


def test_24_bit_wav_is_read_at_full_scale(tmp_path):
    x = (tone(16000, amp=0.5) * (2**23 - 1)).astype(np.int32)
    raw = np.stack([x & 0xFF, (x >> 8) & 0xFF, (x >> 16) & 0xFF], axis=1).astype(np.uint8).tobytes()
    path = tmp_path / "s24.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(3)
        w.setframerate(16000)
        w.writeframes(raw)
    samples, rate = read_audio(path)
    assert rate == 16000
    assert 0.45 < np.abs(to_mono16k(samples, rate)).max() < 0.55


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")
@pytest.mark.parametrize("suffix", [".mp3", ".mp4", ".flac"])
def test_compressed_audio_and_video_tracks_decode_through_ffmpeg(tmp_path, suffix):
    path = tmp_path / f"clip{suffix}"
    inputs = ["-f", "lavfi", "-i", "sine=frequency=300:duration=1:sample_rate=44100"]
    if suffix == ".mp4":  # a video with an audio track
        inputs = ["-f", "lavfi", "-i", "color=c=black:s=64x64:d=1", *inputs, "-shortest", "-pix_fmt", "yuv420p"]
    subprocess.run(["ffmpeg", "-v", "error", "-y", *inputs, str(path)], check=True)
    samples, rate = read_audio(path)
    y = to_mono16k(samples, rate)
    assert rate == 16000 and 0.8 * RATE < y.size < 1.2 * RATE
    assert np.abs(y).max() > 0.1
