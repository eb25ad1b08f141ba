"""``empathic bench turns``: when does a spoken turn end, and when does talking over the agent interrupt it?

Everything is spoken by espeak-ng (several voices and rates) and streamed frame by frame through the segmenter
with Silero VAD, as the live pipeline does; times are media times, and the Smart Turn calls' compute time is
reported beside them. The phrases are split in two halves by position: ``--split tune`` is for choosing settings,
``--split report`` (the default) for the numbers quoted, so nothing is tuned on what is reported.

- ``mid_turn``: an incomplete phrase, a pause of 600-900 ms, then the rest ("I want to ... return it"): the share of
  turns cut in the pause, with the turn rule and with silence alone.
- ``complete``: a whole sentence then silence: how long after the last speech the turn ends, against silence alone
  at the wait that protects mid-turn pauses as well (``max_wait_s``) and at the segmenter's default.
- ``barge_in``: the agent's reply plays and comes back into the microphone (delayed, attenuated, with room
  reverberation and a noise floor); over it the user says a sentence (time from their speech onset to the stop
  decision), a backchannel or a cough (must not stop it), or nothing (the echo alone must not stop it).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from empathic.agent.session.latency import latency_summary
from empathic.perception.errors import MissingDependency
from empathic.perception.sources import read_audio
from empathic.perception.voice.audio import RATE, to_mono16k
from empathic.perception.voice.bargein import BargeInConfig, BargeInDetector
from empathic.perception.voice.segmenter import Segmenter, SegmenterConfig
from empathic.perception.voice.turn import SmartTurn, TurnConfig, TurnEndRule, TurnModel
from empathic.perception.voice.vad import SileroVad

Split = Literal["tune", "report"]

INCOMPLETE: tuple[tuple[str, str], ...] = (
    ("I want to", "return the jacket I bought last week."),
    ("My order number is", "four five seven two nine."),
    ("I was charged twice for", "the same subscription this month."),
    ("Could you tell me why", "my package has not arrived yet?"),
    ("The problem started when", "I updated the app on my phone."),
    ("I would like to change", "the delivery address for my order."),
    ("I have been waiting for", "almost two weeks for a refund."),
    ("Can I speak to", "someone about my bill?"),
    ("The router keeps", "dropping the connection every evening."),
    ("I tried to log in but", "the password reset email never came."),
    ("What I do not understand is", "why the fee went up."),
    ("Is it possible to", "cancel the order before it ships?"),
    ("I think the answer is", "seven times eight, which is fifty six."),
    ("So the derivative of", "x squared is two x."),
    ("I am not sure how to", "start this essay about the French revolution."),
    ("Could you explain again", "how photosynthesis makes sugar?"),
    ("The part that confuses me is", "when the denominator is negative."),
    ("If I multiply both sides by", "three, do I get nine?"),
    ("My teacher said that", "verbs agree with their subject."),
    ("I always get stuck on", "the second step of long division."),
    ("The reason I am calling is", "that my card was declined."),
    ("Yesterday I received", "a letter saying my account is closed."),
    ("I need help with", "setting up the printer on my laptop."),
    ("Before you transfer me", "can you note my complaint?"),
    ("The screen goes black whenever", "I plug in the charger."),
    ("We booked a room for", "three nights but only got two."),
    ("The thing is", "I never signed up for that plan."),
    ("I was hoping you could", "waive the late payment fee."),
    ("When I open the settings", "the app crashes straight away."),
    ("I would rather", "get a replacement than a refund."),
    ("In the third paragraph", "I am not sure my argument is clear."),
    ("Does the mitochondria", "make energy for the whole cell?"),
    ("The formula for the area of", "a circle is pi r squared."),
    ("I do not get why", "the answer is negative here."),
    ("Can we go over", "the difference between weather and climate?"),
    ("What happens if", "the two lines never cross?"),
    ("I already tried", "turning it off and on again."),
    ("The invoice says", "I owe ninety dollars, which is wrong."),
    ("My son is learning", "fractions and he finds them hard."),
    ("Could you check whether", "my appointment is still on Friday?"),
)

COMPLETE: tuple[str, ...] = (
    "I want to return the jacket I bought last week.",
    "My internet has been down since this morning.",
    "Thanks, that answers my question.",
    "Please cancel my subscription.",
    "I never received the confirmation email.",
    "Can you send me a new card?",
    "The delivery was two days late.",
    "That is all I needed, thank you.",
    "I would like a refund, please.",
    "My account number is three three one eight.",
    "The app crashes every time I open it.",
    "I was charged twice this month.",
    "Could I speak to a manager?",
    "The printer is working now.",
    "I understand, that makes sense.",
    "So the answer is twelve.",
    "I think I finally get fractions.",
    "Can you give me another example?",
    "The capital of France is Paris.",
    "Photosynthesis turns light into sugar.",
    "I do not understand this question.",
    "Could you explain that more slowly?",
    "Water boils at one hundred degrees.",
    "I finished the first exercise.",
    "Is my essay long enough?",
    "The derivative of x squared is two x.",
    "I am really frustrated with this service.",
    "Yes, please go ahead and book it.",
    "No, that is not what I ordered.",
    "My flight was cancelled yesterday.",
    "Where can I find my invoice?",
    "I changed my password last night.",
    "The battery drains in an hour.",
    "I need this fixed by Friday.",
    "Let me try the next problem.",
    "What does this word mean?",
    "Seven times eight is fifty six.",
    "That was a great explanation.",
    "I forgot my homework at home.",
    "Can we stop here for today?",
)

AGENT: tuple[str, ...] = (
    "I am sorry about the delay. Let me check the status of your order and see what we can do to fix it today.",
    "Good question. A fraction has a top part, the numerator, and a bottom part, the denominator, which counts "
    "the equal pieces.",
    "I understand this is frustrating. I can see two charges on your account, and I will start a refund for the "
    "second one right away.",
    "Let us try it together. First we write both numbers one above the other, then we multiply the last digits.",
)
BACKCHANNELS: tuple[str, ...] = ("mhm", "yeah", "okay", "uh huh", "right", "sure", "I see", "yes", "oh", "hmm")
VOICES: tuple[str, ...] = ("en-us", "en-gb+f3", "en-us+m3", "en-gb-scotland", "en-029+f2", "en-us-nyc", "en-gb-x-rp+f4")
RATES: tuple[int, ...] = (150, 165, 180, 200)
NOISE_DB = -55.0
ECHO_PATHS: tuple[tuple[float, float], ...] = ((0.08, 0.5), (0.15, 0.35), (0.25, 0.2))
"""(delay s, amplitude) of the agent's voice coming back into the microphone."""


def espeak(ssml: str, voice: str, rate: int, folder: Path) -> np.ndarray:
    """16 kHz audio of ``ssml`` (SSML body) spoken by espeak-ng, trimmed of leading and trailing silence."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise MissingDependency("espeak-ng", "system", "speaking the benchmark phrases (apt-get install espeak-ng)")
    wav = folder / "s.wav"
    subprocess.run([exe, "-m", "-v", voice, "-s", str(rate), "-w", str(wav), f"<speak>{ssml}</speak>"], check=True)
    x = to_mono16k(*read_audio(wav))
    loud = np.flatnonzero(np.abs(x) > 10 ** (-45 / 20))
    return x[loud[0] : loud[-1] + 1] if loud.size else x


def _pause_at(x: np.ndarray) -> tuple[int, int]:
    """The longest near-silent run inside ``x`` (the inserted break)."""
    quiet = np.abs(x) < 10 ** (-45 / 20)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]])))
    starts, ends = edges[::2], edges[1::2]
    i = int(np.argmax(ends - starts))
    return int(starts[i]), int(ends[i])


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * RATE), dtype=np.float32)


def _half(items: Sequence, split: Split) -> list:
    return list(items[0::2] if split == "tune" else items[1::2])


class CachedTurnModel:
    """Smart Turn with its answers remembered by audio, so sweeping settings asks it once per distinct input."""

    def __init__(self, model: TurnModel) -> None:
        self.model, self.name = model, model.name
        self._seen: dict[bytes, float] = {}
        self.seconds: list[float] = []

    def probability(self, audio: np.ndarray) -> float:
        key = audio.tobytes()
        if key not in self._seen:
            start = time.perf_counter()
            self._seen[key] = self.model.probability(audio)
            self.seconds.append(time.perf_counter() - start)
        return self._seen[key]


def _segment(audio: np.ndarray, make: Callable[[], Segmenter]) -> tuple[list[float], list[float]]:
    """Stream ``audio`` frame by frame; the (media time each utterance was closed, its last speech) pairs."""
    seg = make()
    n = seg.vad.frame_size
    closed, ends = [], []
    for i in range(0, audio.size - n + 1, n):
        for s in seg.push(audio[i : i + n], i / RATE):
            closed.append((i + n) / RATE)
            ends.append(s.end)
    return closed, ends


def _noise(audio: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return (audio + rng.normal(0, 10 ** (NOISE_DB / 20), audio.size)).astype(np.float32)


def _room(rng: np.random.Generator, rt60: float = 0.25) -> np.ndarray:
    """A made-up room response: the direct path then an exponentially decaying noise tail."""
    t = np.arange(round(rt60 * RATE)) / RATE
    tail = rng.normal(0, 1, t.size) * np.exp(-6.9 * t / rt60) * 0.04  # direct-to-reverberant ratio about 3 dB
    tail[0] = 1.0
    return (tail / np.sqrt(np.sum(tail**2))).astype(np.float32)


def bench_turns(split: Split = "report", turn: TurnConfig | None = None, barge: BargeInConfig | None = None) -> dict:
    """Run the measurements on one half of the phrases; see the module docstring."""
    turn = turn or TurnConfig()
    barge = barge or BargeInConfig()
    with tempfile.TemporaryDirectory() as tmp:
        return {
            "split": split,
            "turn": turn.model_dump(),
            "barge_in": barge.model_dump(),
            **bench_turn_ends(split, turn, Path(tmp)),
            **bench_barge_in(split, barge, Path(tmp)),
        }


def _voices() -> list[tuple[str, int]]:
    return [(VOICES[i % len(VOICES)], RATES[i % len(RATES)]) for i in range(len(INCOMPLETE))]


def bench_turn_ends(split: Split, turn: TurnConfig, folder: Path) -> dict:
    """Mid-turn pauses cut and the wait after complete turns, with the turn rule and with silence alone."""
    rng = np.random.default_rng(0 if split == "tune" else 1)
    model = CachedTurnModel(SmartTurn())
    vad = SileroVad()
    lead = _silence(0.5)
    voice = _voices()
    makers: dict[str, Callable[[], Segmenter]] = {
        "rule": lambda: Segmenter(vad, SegmenterConfig(), turn=TurnEndRule(model, turn)),
        "silence_max_wait": lambda: Segmenter(vad, SegmenterConfig(trailing_silence_s=turn.max_wait_s)),
        "silence_default": lambda: Segmenter(vad, SegmenterConfig()),
    }
    cut = dict.fromkeys(makers, 0)
    pauses = []
    for i, (head, rest) in _half(list(enumerate(INCOMPLETE)), split):
        pause = float(rng.uniform(0.6, 0.9))
        x = espeak(f'{head} <break time="800ms"/> {rest}', *voice[i], folder)
        a, b = _pause_at(x)
        x = _noise(np.concatenate([lead, x[:a], _silence(pause), x[b:], _silence(2.0)]), rng)
        resume = (lead.size + a) / RATE + pause
        pauses.append(pause)
        for name, make in makers.items():
            closed, _ = _segment(x, make)
            cut[name] += any(c < resume for c in closed)
    waits: dict[str, list[float]] = {name: [] for name in makers}
    for i, text in _half(list(enumerate(COMPLETE)), split):
        x = _noise(np.concatenate([lead, espeak(text, *voice[i], folder), _silence(2.0)]), rng)
        for name, make in makers.items():
            closed, ends = _segment(x, make)
            waits[name].append(closed[-1] - ends[-1])
    rule = np.mean(waits["rule"])
    return {
        "mid_turn": {
            "n": len(pauses),
            "pause_s": [round(min(pauses), 3), round(max(pauses), 3)],
            "cut_rate": {k: round(v / len(pauses), 3) for k, v in cut.items()},
        },
        "complete": {
            "n": len(waits["rule"]),
            "wait_after_speech_ms": {k: latency_summary(v) for k, v in waits.items()},
            "judged_incomplete": int(sum(w >= turn.max_wait_s - 1e-6 for w in waits["rule"])),
            "sooner_than_silence_max_wait_ms": round(1000 * (np.mean(waits["silence_max_wait"]) - rule)),
            "sooner_than_silence_default_ms": round(1000 * (np.mean(waits["silence_default"]) - rule)),
        },
        "smart_turn_call_ms": latency_summary(model.seconds),
    }


def bench_barge_in(split: Split, barge: BargeInConfig, folder: Path) -> dict:
    """The agent's reply plays and echoes; the user talks over it, backchannels, coughs, or stays silent."""
    rng = np.random.default_rng(2 if split == "tune" else 3)
    vad = SileroVad()
    voice = _voices()
    agent = [espeak(text, "en-us+f2", 170, folder) for text in AGENT]
    users = [espeak(text, *voice[i], folder) for i, text in _half(list(enumerate(COMPLETE)), split)]
    users = [u for u in users if u.size / RATE >= 1.0]
    channels = [espeak(text, *voice[i], folder) for i, text in enumerate(BACKCHANNELS)]
    channels = [c for c in channels if c.size / RATE < barge.min_speech_s]
    coughs = [_cough(rng) for _ in range(4)]

    def over_playback(user: np.ndarray | None, k: int, at: float = 1.5) -> list:
        played = agent[k % len(agent)]
        delay, gain = ECHO_PATHS[k % len(ECHO_PATHS)]
        d = round(delay * RATE)
        mic = np.zeros(played.size + d + RATE, dtype=np.float32)
        echo = gain * np.convolve(played, _room(rng))[: mic.size - d]
        mic[d : d + echo.size] += echo
        if user is not None:
            start = round(at * RATE)
            mic[start : start + user.size] += user[: mic.size - start]
        detector = BargeInDetector(barge)
        detector.play(played, RATE, 0.0)
        _segment(_noise(mic, rng), lambda: Segmenter(vad, SegmenterConfig(), barge_in=detector))
        return detector.take()

    reaction, missed = [], 0
    for k, user in enumerate(users):
        events = over_playback(user, k)
        if events:
            reaction.append(events[0].t - 1.5)
        else:
            missed += 1
    channel_stops = sum(bool(over_playback(c, k)) for k, c in enumerate(channels))
    cough_stops = sum(bool(over_playback(c, k)) for k, c in enumerate(coughs))
    n_echo = 2 * len(agent) * len(ECHO_PATHS)
    echo_stops = sum(bool(over_playback(None, k)) for k in range(n_echo))
    return {
        "barge_in_speech": {
            "n": len(users),
            "missed": missed,
            "onset_to_decision_ms": latency_summary(reaction),
            "after_threshold_ms": latency_summary([r - barge.min_speech_s for r in reaction]),
        },
        "backchannels": {
            "n": len(channels),
            "stop_rate": round(channel_stops / max(1, len(channels)), 3),
            "coughs": len(coughs),
            "cough_stop_rate": round(cough_stops / len(coughs), 3),
        },
        "echo_only": {"n": n_echo, "false_barge_in_rate": round(echo_stops / n_echo, 3)},
    }


def _cough(rng: np.random.Generator) -> np.ndarray:
    """A cough-like burst: 250-400 ms of low-passed noise with a sharp attack."""
    n = round(rng.uniform(0.25, 0.4) * RATE)
    t = np.arange(n) / RATE
    noise = np.convolve(rng.normal(0, 1, n), np.ones(8) / 8, mode="same")
    return (0.3 * noise * np.exp(-t / 0.08) / np.max(np.abs(noise))).astype(np.float32)
