"""The vocal-emotion head's training pieces: online speaker normaliser, pooling, augmentation, nested CV."""

import numpy as np
import pytest
from empathic.perception.voice.asr import HOP, pool_states
from empathic.perception.voice.emotion import HEAD_CLASSES, SpeakerNormaliser
from empathic.tooling.train.audio_augment import noise, perturbations, pitch, reverb, speed
from empathic.tooling.train.voice import actor_folds, cross_validate, fit_temperature

RATE = 16000


def tone(f0, seconds=1.0, amp=0.3):
    t = np.arange(round(seconds * RATE)) / RATE
    return (amp * np.sin(2 * np.pi * f0 * t)).astype(np.float32)


def peak_hz(x):
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    return np.argmax(spectrum) * RATE / x.size


def test_normaliser_reads_a_new_speaker_against_the_prior_then_against_themselves():
    prior_mean, prior_var = np.zeros(3), np.ones(3)
    centre = SpeakerNormaliser(prior_mean, prior_var, prior_weight=1.0, scale=False)
    first = centre(np.array([2.0, 2.0, 2.0]))
    assert np.allclose(first, 1.0)  # half prior, half the speaker's only utterance
    for _ in range(200):
        last = centre(np.array([2.0, 2.0, 2.0]))
    assert np.allclose(last, 0.0, atol=0.02)  # a speaker's constant voice is taken out entirely
    rng = np.random.default_rng(0)
    scaled = SpeakerNormaliser(prior_mean, prior_var, prior_weight=2.0, scale=True)
    loud = np.stack([scaled(5.0 + 10.0 * rng.normal(size=3)) for _ in range(400)])
    assert abs(loud[200:].mean()) < 0.2 and 0.8 < loud[200:].std() < 1.2  # unit spread whatever the speaker's
    with pytest.raises(ValueError, match="shape"):
        scaled(np.zeros(4))


def test_normaliser_is_online_an_utterance_never_sees_later_ones():
    rng = np.random.default_rng(1)
    xs = rng.normal(size=(5, 4))
    a = SpeakerNormaliser(np.zeros(4), np.ones(4), 4.0, True)
    b = SpeakerNormaliser(np.zeros(4), np.ones(4), 4.0, True)
    early = [a(x) for x in xs[:3]]
    full = [b(x) for x in xs]
    assert all(np.allclose(e, f) for e, f in zip(early, full[:3], strict=True))


def test_pooling_ignores_the_padding_and_sees_mel_change():
    states = np.zeros((50, 4), np.float32)
    states[:10] = 1.0
    states[10:] = 99.0  # padding: must not leak into the statistics
    mel = np.zeros((3, 100), np.float32)
    mel[:, :20:2] = 1.0  # alternating frames inside the audio
    mel[:, 20:] = 50.0
    out = pool_states(states, mel, 10 * 2 * HOP)
    assert out.shape == (2 * 4 + 3 * 3,)
    assert np.allclose(out[:4], 1.0) and np.allclose(out[4:8], 0.0)
    assert np.allclose(out[8:11], 0.5) and np.allclose(out[-3:], 1.0)  # |delta| of 0,1,0,1... is 1
    steady = pool_states(states, np.ones((3, 100), np.float32), 10 * 2 * HOP)
    assert np.allclose(steady[-3:], 0.0)
    lower = np.full((50, 2), 99.0, np.float32)
    lower[:10] = 3.0
    with_lower = pool_states(states, mel, 10 * 2 * HOP, [lower])
    assert with_lower.shape == (2 * 4 + 3 * 3 + 2 * 2,) and np.allclose(with_lower[: out.size], out)
    assert np.allclose(with_lower[-4:-2], 3.0) and np.allclose(with_lower[-2:], 0.0)  # a lower layer's padding too


def test_speed_and_pitch_move_the_pitch_as_asked():
    a = tone(200.0)
    fast = speed(a, 1.1)
    assert fast.size == pytest.approx(a.size / 1.1, abs=2) and peak_hz(fast) == pytest.approx(220.0, abs=3)
    up = pitch(a, 2.0)
    assert up.size == a.size and peak_hz(up) == pytest.approx(200.0 * 2 ** (2 / 12), abs=3)
    down = pitch(a, -3.0)
    assert peak_hz(down) == pytest.approx(200.0 * 2 ** (-3 / 12), abs=3)
    with pytest.raises(ValueError):
        speed(a, 0.0)


def test_noise_and_reverb_do_what_they_say():
    a = tone(300.0)
    noisy = noise(a, 10.0, np.random.default_rng(0))
    snr = 10 * np.log10(np.mean(a**2) / np.mean((noisy - a) ** 2))
    assert snr == pytest.approx(10.0, abs=0.5)
    click = np.zeros(RATE, np.float32)
    click[100] = 0.5
    wet = reverb(click, 0.5, np.random.default_rng(0))
    assert wet.size == click.size and np.abs(wet).max() == pytest.approx(0.5, abs=1e-6)
    tail = np.abs(wet[100 + RATE // 100 : 100 + RATE // 4])
    assert tail.max() > 1e-3  # the room keeps ringing after the click
    assert np.all(np.isfinite(noise(np.zeros(100, np.float32), 10.0, np.random.default_rng(0))))


def test_perturbations_are_one_of_each_kind_and_reproducible():
    a = tone(180.0, 0.5)
    first = perturbations(np.random.default_rng(3))
    again = perturbations(np.random.default_rng(3))
    assert [n.split()[0] for n, _ in first] == ["speed", "pitch", "noise", "reverb"]
    assert all(np.array_equal(f(a), g(a)) for (_, f), (_, g) in zip(first, again, strict=True))


def test_temperature_is_fitted_on_held_out_logits():
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=4.0, size=(4000, 4))
    p = np.exp(logits / 2.0)
    p /= p.sum(axis=1, keepdims=True)
    y = np.array([rng.choice(4, p=row) for row in p])
    assert fit_temperature(logits, y) == pytest.approx(2.0, abs=0.2)


def test_folds_hold_both_sexes():
    speakers = [f"{i:02d}" for i in range(1, 17)]
    sexes = ["male" if i % 2 else "female" for i in range(1, 17)]
    fold_of = actor_folds(speakers, sexes, 4)
    for k in range(4):
        held = [x for s, x in zip(speakers, sexes, strict=True) if fold_of[s] == k]
        assert sorted(held) == ["female", "female", "male", "male"]


def test_nested_cross_validation_sees_past_speaker_offsets():
    """Each synthetic speaker shifts every embedding by a large offset; the running normaliser must remove it."""
    rng = np.random.default_rng(1)
    speakers, labels, sexes, rows = [], [], [], []
    for s in range(8):
        offset = rng.normal(scale=1.0, size=8)
        for i in range(16):
            lab = HEAD_CLASSES[i % 8]
            speakers.append(f"{s:02d}")
            sexes.append("male" if s % 2 else "female")
            labels.append(lab)
            rows.append(offset + 3.0 * np.eye(8)[i % 8] + rng.normal(size=8))
    x = np.stack(rows)
    xv = np.stack([x, x + rng.normal(scale=0.3, size=x.shape)])
    out = cross_validate(xv, labels, speakers, sexes, folds=2, inner_folds=2)
    assert out["accuracy_over_folds"]["mean"] > 0.8
    assert out["accuracy_over_folds"]["min"] <= out["accuracy_over_folds"]["mean"] <= out["accuracy_over_folds"]["max"]
    held = [set(c["actors"]) for c in out["chosen_per_fold"]]
    assert held[0].isdisjoint(held[1]) and held[0] | held[1] == set(speakers)
    assert set(out["pooled_file_order"]["accuracy_by_sex"]) == {"male", "female"}
