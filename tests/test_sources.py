import asyncio
import wave

import numpy as np
import pytest
from empathic.perception import AudioChunk, ObservationError, TextTurn, VideoFrame
from empathic.perception.sources import (
    audio_file_chunks,
    latest_only,
    merge,
    read_audio,
    replay,
    text_file_turns,
    video_file_frames,
)


def write_wav(path, samples, rate=16000, channels=1):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype(np.int16).tobytes())


def test_text_file_one_turn_per_line(tmp_path):
    f = tmp_path / "t.txt"
    f.write_text("hello\n\n# a comment\n  second turn  \n", encoding="utf-8")
    turns = text_file_turns(f, gap=2.0)
    assert [(t.t, t.text) for t in turns] == [(2.0, "hello"), (4.0, "second turn")]


def test_wav_chunks_keep_rate_channels_and_time(tmp_path):
    f = tmp_path / "a.wav"
    stereo = (np.arange(48000 * 2).reshape(-1, 2) % 100).astype(np.int16)
    write_wav(f, stereo, rate=48000, channels=2)
    chunks = list(audio_file_chunks(f, chunk_s=0.25))
    assert len(chunks) == 4 and [c.t for c in chunks] == [0.0, 0.25, 0.5, 0.75]
    assert chunks[0].sample_rate == 48000 and chunks[0].samples.shape == (12000, 2)


def test_undecodable_audio_is_a_clear_error(tmp_path):
    f = tmp_path / "bad.mp3"
    f.write_bytes(b"not audio at all")
    with pytest.raises(Exception, match=r"not decodable|ffmpeg"):
        read_audio(f)


def test_video_file_frames_are_rgb_with_timestamps(tmp_path):
    import cv2

    path = tmp_path / "v.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (64, 48))
    for _ in range(10):
        frame = np.zeros((48, 64, 3), np.uint8)
        frame[:, :, 2] = 255  # red in BGR
        writer.write(frame)
    writer.release()
    frames = list(video_file_frames(path))
    assert len(frames) == 10 and frames[3].t == pytest.approx(0.3)
    assert frames[0].image[..., 0].mean() > 200 and frames[0].image[..., 2].mean() < 50
    assert len(list(video_file_frames(path, max_fps=5.0))) == 5
    with pytest.raises(ObservationError):
        list(video_file_frames(tmp_path / "missing.avi"))


def test_merge_orders_by_time_media_before_words():
    img = np.zeros((2, 2, 3), np.uint8)
    out = list(
        merge(
            [TextTurn(1.0, "x")],
            [VideoFrame(0.5, img), VideoFrame(1.0, img)],
            [AudioChunk(1.0, np.zeros(4, np.int16), 8000)],
        )
    )
    assert [type(o).__name__ for o in out] == ["VideoFrame", "VideoFrame", "AudioChunk", "TextTurn"]


async def test_latest_only_drops_stale_frames_but_never_words():
    img = np.zeros((2, 2, 3), np.uint8)

    async def live():
        for i in range(20):
            yield VideoFrame(i * 0.1, img)
            if i == 5:
                yield TextTurn(i * 0.1, "hello")
            await asyncio.sleep(0)

    seen = []
    async for obs in latest_only(live()):
        seen.append(obs)
        await asyncio.sleep(0.01)  # a slow consumer
    frames_seen = [o for o in seen if isinstance(o, VideoFrame)]
    assert any(isinstance(o, TextTurn) for o in seen)
    assert len(frames_seen) < 20 and frames_seen[-1].t == pytest.approx(1.9)


async def test_replay_yields_everything_in_order():
    obs = [TextTurn(float(i), str(i)) for i in range(5)]
    assert [o async for o in replay(obs)] == obs
