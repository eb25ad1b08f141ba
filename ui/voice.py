"""The demo's voice: the session's spoken reply as it is handed out, packed for the page's player, and the player.

The server decides what plays and when (the session's :class:`~empathic.agent.speech.Playback` is the truth about
what was heard); the page only schedules the pieces it is sent back to back with Web Audio and stops them the moment
it is told to (barge-in, mute). ``PLAYER_JS`` also asks the browser for echo cancellation, noise suppression and
automatic gain on every microphone it opens, so the agent's own voice is not picked up as the person's.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field

import numpy as np
from empathic.agent.session.events import Event, SpeechAudio, SpeechStopped
from empathic.perception.voice.audio import pcm16

MIC_CONSTRAINTS = {"echoCancellation": True, "noiseSuppression": True, "autoGainControl": True}


@dataclass
class VoiceOut:
    """Audio waiting to be sent to one page, and whether the page must stop what it plays first."""

    pending: list[SpeechAudio] = field(default_factory=list)
    stop: bool = False
    seq: int = 0

    def absorb(self, event: Event) -> None:
        if isinstance(event, SpeechAudio):
            self.pending.append(event)
        elif isinstance(event, SpeechStopped) and event.interrupted:
            self.pending.clear()
            self.stop = True

    def take(self) -> str | None:
        """The next message for the page's player (JSON), or None when there is nothing new."""
        if not self.pending and not self.stop:
            return None
        self.seq += 1
        chunks = [{"rate": e.sample_rate, "pcm": _pcm16(e.audio)} for e in self.pending]
        message = json.dumps({"seq": self.seq, "stop": self.stop, "chunks": chunks})
        self.pending.clear()
        self.stop = False
        return message


def _pcm16(samples: np.ndarray) -> str:
    """Float samples as base64 little-endian 16-bit PCM (a third of JSON floats' size)."""
    return base64.b64encode(pcm16(samples).tobytes()).decode("ascii")


# Runs once when the page loads. ``window.empathicVoice`` plays what the server sends and keeps simple meters
# (peak level heard, chunks played, stops) that the browser test reads.
PLAYER_JS = """
() => {
  if (window.empathicVoice) return;
  const v = window.empathicVoice = {ctx: null, meter: null, next: 0, sources: [], seq: 0, peak: 0, chunks: 0,
                                    stops: 0, micConstraints: null};
  const extra = MIC_CONSTRAINTS;
  const media = navigator.mediaDevices;
  if (media && media.getUserMedia) {
    const open = media.getUserMedia.bind(media);
    media.getUserMedia = (c) => {
      if (c && c.audio) {
        c = {...c, audio: {...(c.audio === true ? {} : c.audio), ...extra}};
        v.micConstraints = c.audio;
      }
      return open(c);
    };
  }
  v.context = () => {
    if (!v.ctx) {
      v.ctx = new AudioContext();
      v.meter = v.ctx.createAnalyser();
      v.meter.fftSize = 1024;
      v.meter.connect(v.ctx.destination);
      const buf = new Float32Array(v.meter.fftSize);
      setInterval(() => {
        v.meter.getFloatTimeDomainData(buf);
        let s = 0;
        for (const x of buf) s += x * x;
        v.peak = Math.max(v.peak, Math.sqrt(s / buf.length));
      }, 50);
    }
    if (v.ctx.state === "suspended") v.ctx.resume();
    return v.ctx;
  };
  document.addEventListener("pointerdown", () => v.context(), {capture: true});
  v.halt = () => {
    for (const s of v.sources) { try { s.stop(); } catch (e) {} }
    v.sources = [];
    v.next = 0;
    v.stops += 1;
  };
  v.receive = (text) => {
    if (!text) return;
    const m = JSON.parse(text);
    if (m.seq <= v.seq) return;
    v.seq = m.seq;
    if (m.stop) v.halt();
    const ctx = v.context();
    for (const c of m.chunks) {
      const raw = atob(c.pcm);
      const pcm = new Int16Array(raw.length / 2);
      for (let i = 0; i < pcm.length; i++) pcm[i] = raw.charCodeAt(2 * i) | (raw.charCodeAt(2 * i + 1) << 8);
      const buffer = ctx.createBuffer(1, pcm.length, c.rate);
      const data = buffer.getChannelData(0);
      for (let i = 0; i < pcm.length; i++) data[i] = pcm[i] / 32768;
      const src = ctx.createBufferSource();
      src.buffer = buffer;
      src.connect(v.meter);
      const at = Math.max(ctx.currentTime + 0.02, v.next);
      src.start(at);
      v.next = at + buffer.duration;
      v.sources.push(src);
      src.onended = () => { v.sources = v.sources.filter((x) => x !== src); v.chunks += 1; };
    }
  };
}
""".replace("MIC_CONSTRAINTS", json.dumps(MIC_CONSTRAINTS))

RECEIVE_JS = "(message) => { window.empathicVoice && window.empathicVoice.receive(message); }"
