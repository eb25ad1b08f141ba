"""Malformed and extreme input never crashes a session: a clear error, a confidence-0 estimate, or a result."""

import asyncio
import random

import numpy as np
from empathic.agent import build_session
from empathic.perception import AudioChunk, ObservationError, TextTurn, VideoFrame
from empathic.tooling.bench.stress import fuzz, fuzz_observation, soak
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

SESSION = build_session()


def process(obs):
    return asyncio.run(SESSION.process(obs))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    hnp.arrays(
        dtype=st.sampled_from([np.uint8, np.float32, np.int16, np.bool_]),
        shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=40),
    )
)
def test_any_array_as_a_frame_is_accepted_or_rejected_clearly(arr):
    try:
        frame = VideoFrame(1.0, arr)
    except ObservationError:
        return
    assert arr.dtype == np.uint8 and arr.ndim in (2, 3)
    process(frame)


@settings(max_examples=150, deadline=None)
@given(
    hnp.arrays(
        dtype=st.sampled_from([np.int16, np.int32, np.uint8, np.float32, np.float64]),
        shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=64),
        elements=None,
    ),
    st.integers(min_value=-10, max_value=500_000),
)
@example(np.zeros((1, 0), np.int16), 16_000)  # one frame of no channels: found by hypothesis, averaged to NaN
def test_any_audio_is_accepted_or_rejected_clearly(samples, rate):
    try:
        chunk = AudioChunk(0.5, samples, rate)
    except ObservationError:
        return
    assert np.isfinite(chunk.mono_float()).all()
    process(chunk)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=3000))
def test_any_text_gets_a_turn(text):
    events = process(TextTurn(2.0, text))
    assert events[-1].type == "response"
    state = next(e for e in events if e.type == "state").state
    assert 0.0 <= state.confidence <= 1.0


def test_fuzz_bench_finds_no_unhandled_exception():
    out = fuzz(n=300, seed=7)
    assert out["unhandled"] == 0, out["examples"]
    assert out["processed"] > 50 and out["rejected_with_clear_error"] > 50


def test_fuzz_counts_an_escaping_exception():
    class Exploding:
        async def process(self, obs):
            raise RuntimeError("boom")

    out = fuzz(n=50, seed=1, session=Exploding())  # type: ignore[arg-type]
    assert out["unhandled"] == out["processed"] + out["unhandled"] - out["processed"] > 0
    assert "boom" in out["examples"][0]


def test_fuzz_observations_are_reproducible():
    a = [type(fuzz_observation(random.Random(3), 0.0)).__name__ for _ in range(3)]
    assert a == [type(fuzz_observation(random.Random(3), 0.0)).__name__ for _ in range(3)]


def test_short_soak_keeps_memory_flat():
    out = soak(minutes=1.0, warmup_minutes=0.25)
    assert out["user_turns"] == 5
    assert out["python_heap_growth_mb"] < 5.0
