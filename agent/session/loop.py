"""The session loop: sources -> perceivers -> fuser -> policy at turn ends -> responder, as a stream of events.

Observations are processed one at a time in arrival order and every timestamp is a media timestamp, so replaying
a recording gives the same events every time, as fast as the CPU allows. The injected clock is read only to
measure stage latencies. A component that raises is reported as a ``ComponentFailed`` event and the session
goes on with the others.

With a :class:`SpeechOutput`, replies are also spoken, in the prosody of the directive's tone and pacing, the first
sentence while the rest is still being written. :meth:`AgentSession.interrupt` (barge-in) stops playback and
leaves in the history only what the person heard; a turn answered while the agent speaks interrupts it too. A
transcriber that :class:`HearsPlayback` is told what is played (so it can tell the agent's voice from the
person's), and its barge-in interrupts the reply where the person spoke over it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterable, AsyncIterator, Callable, Sequence
from typing import Any

import numpy as np
from empathic.agent.respond.template import ResponseRequest, TemplateResponder
from empathic.agent.session.events import (
    ComponentFailed,
    DirectiveChosen,
    EmotionUpdated,
    EpisodeDetected,
    EstimateMade,
    Event,
    ResponseChunk,
    ResponseCompleted,
    SpeechAudio,
    SpeechStarted,
    SpeechStopped,
    Transcript,
    TurnEnded,
)
from empathic.agent.session.latency import LatencyMetrics
from empathic.agent.speech.output import SpeechOutput
from empathic.agent.speech.playback import Playback
from empathic.agent.speech.prosody import directive_prosody
from empathic.agent.trust.compliance import ALL_MODALITIES, ComplianceDecision
from empathic.agent.trust.consent import CHANNEL_MODALITIES, Channel, ConsentLedger
from empathic.perception import (
    AudioChunk,
    Clock,
    EmotionState,
    EmpathicError,
    Fuser,
    ModalityEstimate,
    Observation,
    Perceiver,
    SystemClock,
    TextTurn,
    WeightedFuser,
)
from empathic.perception.transcriber import BargeIn, HearsPlayback, Transcriber, Utterance
from empathic.policies import DialogueState, Policy, Profile, ToneDirective, load_profile
from empathic.policies.profile import handoff_summary
from langchain_core.runnables import Runnable, RunnableConfig

log = logging.getLogger(__name__)
Handler = Callable[[Event], None]
INTENT_CONFIDENCE = 0.5
"""An intent the text perceiver reads with at least this confidence is what the turn does."""
WORDS_ONLY_INTENTS = ("handover_request",)
"""What a turn may do without the words channel: an explicit request for a person is honoured, nothing else read."""


class AgentSession:
    """One conversation with one person.

    ``policy`` is a :class:`Policy` or the name (or YAML path) of a profile; its ``name`` tells the responder the
    domain. ``perceivers`` may be any set (none is built in); ``responder`` None means perceive and decide only, for
    hosts that write their own replies. ``state_interval`` is the least media time between two ``state`` events outside
    turn ends (0 emits one per estimate). ``speech`` speaks the replies (None: text only).
    """

    def __init__(
        self,
        *,
        perceivers: Sequence[Perceiver] = (),
        fuser: Fuser | None = None,
        policy: Policy | str = "customer_service",
        responder: Runnable[ResponseRequest, str] | None = None,
        fallback: Runnable[ResponseRequest, str] | None = None,
        transcriber: Transcriber | None = None,
        clock: Clock | None = None,
        state_interval: float = 0.5,
        emit_estimates: bool = False,
        consent: ConsentLedger | None = None,
        compliance: ComplianceDecision | None = None,
        speech: SpeechOutput | None = None,
    ) -> None:
        self.perceivers = list(perceivers)
        self.fuser = fuser or WeightedFuser()
        self.policy: Policy = load_profile(policy) if isinstance(policy, str) else policy
        self.responder = responder
        self.fallback = fallback or TemplateResponder()
        self.transcriber = transcriber
        self.clock = clock or SystemClock()
        self.state_interval = state_interval
        self.emit_estimates = emit_estimates
        self.metrics = LatencyMetrics()
        self.dialogue = DialogueState()
        self.state = EmotionState.neutral()
        self.directive: ToneDirective | None = None
        self._handlers: list[Handler] = []
        self._last_rate: dict[str, float] = {}
        self._last_state_t = float("-inf")
        self._spoken_words_read = False
        self.consent = consent or ConsentLedger.all_granted()
        self.compliance = compliance or ComplianceDecision(ALL_MODALITIES)
        self.speech = speech
        self._media_t = 0.0
        self._reply: tuple[Playback, TextTurn | None] | None = None
        self._barge_ins: list[BargeIn] = []
        if isinstance(transcriber, HearsPlayback):  # it hears what we play, and tells us when it is talked over
            transcriber.on_barge_in = self._barge_ins.append
        for modality in sorted(ALL_MODALITIES - self.compliance.allowed_modalities):
            self.fuser.update(ModalityEstimate.unknown(modality, 0.0, self.compliance.notice))

    def set_consent(self, channel: Channel, granted: bool, t: float) -> None:
        """Grant or revoke a channel; revoking forgets at once the evidence derived from it and what it buffered.

        Revoking the microphone drops the transcriber's pending audio (its ``reset()``, when it has one) and, when
        transcripts were read for emotion, the words evidence too: it came from that audio.
        """
        if not self.consent.set(channel, granted, t) or granted:
            return
        forget = set(CHANNEL_MODALITIES[channel])
        if channel == "microphone":
            reset = getattr(self.transcriber, "reset", None)
            if callable(reset):
                reset()
            if self._spoken_words_read:
                forget |= set(CHANNEL_MODALITIES["text"])
        if channel in ("microphone", "text"):
            self._spoken_words_read = False
        for modality in sorted(forget):
            self.fuser.forget(modality)
        self.state = self.fuser.state(t)

    def words_allowed(self, turn: TextTurn) -> bool:
        """Whether this turn's words may be read for emotion: typed words need the words channel, a transcript
        needs both the microphone (it is that audio) and the words channel."""
        spoken = turn.source == "asr"
        return self.consent.granted("text") and (not spoken or self.consent.granted("microphone"))

    # -- observers -------------------------------------------------------------------------------------------
    def subscribe(self, handler: Handler) -> Callable[[], None]:
        """Call ``handler`` with every event; returns a function that unsubscribes it."""
        self._handlers.append(handler)
        return lambda: self._handlers.remove(handler)

    def _emit(self, event: Event, out: list[Event]) -> None:
        out.append(event)
        # the concrete event types first: a check against the Protocol walks its members (a few ms per turn)
        if isinstance(event, SpeechAudio | SpeechStopped) and isinstance(self.transcriber, HearsPlayback):
            if isinstance(event, SpeechAudio):
                self.transcriber.play(event.audio, event.sample_rate, event.t)
            elif event.interrupted:
                self.transcriber.stop_playback(event.t)
        for handler in list(self._handlers):
            try:
                handler(event)
            except Exception:  # an observer must never break the session
                log.exception("event handler %r failed on %s", handler, event.type)

    # -- the loop --------------------------------------------------------------------------------------------
    async def run(
        self, source: AsyncIterable[Observation], config: RunnableConfig | None = None
    ) -> AsyncIterator[Event]:
        """Process every observation of ``source`` and yield the events, then flush the transcriber."""
        async for obs in source:
            for event in await self.process(obs, config):
                yield event
        for event in await self.finish(config):
            yield event

    async def process(self, obs: Observation, config: RunnableConfig | None = None) -> list[Event]:
        """Process one observation; returns the events it caused (also sent to subscribers)."""
        out: list[Event] = []
        self._media_t = max(self._media_t, obs.t)
        self._settle_speech(obs.t, out)
        if not self.consent.allows(obs):
            if isinstance(obs, TextTurn) and obs.speaker == "user":  # answer, but analyse nothing
                await self._user_turn(obs, out, config)
            return out
        if isinstance(obs, AudioChunk) and self.transcriber is not None:
            utterances = await self._guard(self.transcriber.name, obs.t, out, self.transcriber.feed(obs))
            while self._barge_ins:  # the person talked over the reply: stop it where they did
                out += self.interrupt(self._barge_ins.pop(0).t)
            await self._perceive(obs, out)
            for utterance in utterances or ():
                await self._speech_turn(utterance, out, config)
            return out
        estimates = await self._perceive(obs, out)
        if isinstance(obs, TextTurn):
            if obs.speaker == "user":
                await self._user_turn(obs, out, config, estimates)
            else:
                self.dialogue = self.dialogue.after_agent_turn(obs)
        return out

    async def finish(self, config: RunnableConfig | None = None) -> list[Event]:
        """End of input: turn any speech still open into a last turn."""
        out: list[Event] = []
        self._settle_speech(float("inf"), out)
        if self.transcriber is not None:
            flushed = await self._guard(self.transcriber.name, self.state.t, out, self.transcriber.flush())
            for utterance in flushed or ():
                await self._speech_turn(utterance, out, config)
        return out

    async def _speech_turn(self, utterance: Utterance, out: list[Event], config: RunnableConfig | None) -> None:
        """A finished utterance: its audio evidence always (the microphone is granted), its words only when
        :meth:`words_allowed`."""
        turn = dataclasses.replace(utterance.turn, source="asr")
        self._emit(Transcript(turn.t, turn), out)
        words = self.words_allowed(turn)
        heard = [e for e in utterance.estimates if words or e.modality not in CHANNEL_MODALITIES["text"]]
        if heard:
            self._fuse(heard, turn.t, out)
        estimates = await self._perceive(turn, out) if words else []
        self._spoken_words_read |= bool(estimates)
        await self._user_turn(turn, out, config, estimates)

    async def _guard(self, component: str, t: float, out: list[Event], awaitable: Any) -> Any:
        """Await ``awaitable``; on failure emit ``ComponentFailed`` and return None."""
        start = self.clock.now()
        try:
            return await awaitable
        except Exception as exc:
            retryable = exc.retryable if isinstance(exc, EmpathicError) else True
            self._emit(ComponentFailed(t, component, f"{type(exc).__name__}: {exc}", retryable), out)
            return None
        finally:
            self.metrics.record(component, self.clock.now() - start)

    async def _perceive(self, obs: Observation, out: list[Event]) -> list[ModalityEstimate]:
        chosen = [
            p
            for p in self.perceivers
            if isinstance(obs, p.capabilities.accepts)
            and self.compliance.allows(p.capabilities.modality)
            and self._due(p, obs.t)
        ]
        if not chosen:
            return []
        results = await asyncio.gather(
            *(self._guard(f"perceive.{p.name}", obs.t, out, p.perceive(obs)) for p in chosen)
        )
        estimates = [e for e in results if isinstance(e, ModalityEstimate)]
        if estimates:
            text = isinstance(obs, TextTurn)
            # a user turn's state is fused at its end, with what was said: computing it here too is wasted work
            self._fuse(estimates, obs.t, out, state_event=not text, refresh=not (text and obs.speaker == "user"))
        return estimates

    def _fuse(
        self,
        estimates: list[ModalityEstimate],
        t: float,
        out: list[Event],
        state_event: bool = False,
        refresh: bool = True,
    ) -> None:
        start = self.clock.now()
        for est in estimates:
            if not self.compliance.allows(est.modality):
                continue
            if self.emit_estimates:
                self._emit(EstimateMade(t, est), out)
            for episode in est.episodes:
                self._emit(EpisodeDetected(episode.offset, est.modality, episode), out)
            self.fuser.update(est)
        if refresh:
            self.state = self.fuser.state(t)
        self.metrics.record("fusion", self.clock.now() - start)
        if state_event and t - self._last_state_t >= self.state_interval:
            self._last_state_t = t
            self._emit(EmotionUpdated(t, self.state), out)

    def _due(self, perceiver: Perceiver, t: float) -> bool:
        """Respect a perceiver's ``max_rate_hz`` in media time."""
        rate = perceiver.capabilities.max_rate_hz
        last = self._last_rate.get(perceiver.name)
        if rate > 0 and last is not None and t - last < 1.0 / rate - 1e-9:
            return False
        self._last_rate[perceiver.name] = t
        return True

    async def _user_turn(
        self,
        turn: TextTurn,
        out: list[Event],
        config: RunnableConfig | None,
        estimates: Sequence[ModalityEstimate] = (),
    ) -> None:
        """Decide and answer. What the turn does (its intents) comes from the text perceiver when one read it, else
        from the policy's own patterns; without the words channel only an explicit request for a person counts, the
        policy sees no words, and a hand-off summary quotes none."""
        words = self.words_allowed(turn)
        read = [e for e in estimates if e.modality == "text"]
        intents = tuple(i.name for e in read for i in e.intents if i.confidence >= INTENT_CONFIDENCE) if read else None
        if not words:
            patterns = self.dialogue.after_user_turn(turn, self.state).intents
            intents = tuple(i for i in patterns if i in WORDS_ONLY_INTENTS)
        said = ("voice", "text") if turn.source == "asr" else ("text",)
        self.state = self.fuser.state(turn.t, said=said)
        self._last_state_t = turn.t
        self._emit(EmotionUpdated(turn.t, self.state), out)
        self._emit(TurnEnded(turn.t, turn), out)
        start = self.clock.now()
        self.dialogue = self.dialogue.after_user_turn(turn, self.state, intents)
        self.directive = self._decide(words)
        self.metrics.record("policy", self.clock.now() - start)
        self._emit(DirectiveChosen(turn.t, self.directive), out)
        if self.responder is None:  # the host writes the reply; what it was told to do still counts
            self.dialogue = self.dialogue.after_directive(self.directive)
            return
        domain = self.policy if isinstance(self.policy, Profile) else self.policy.name
        request = ResponseRequest(turn, self.directive, self.state, self.dialogue, domain)
        if self.speech is None:
            text, name, fallback = await self._respond(request, turn.t, out, config)
            self._emit(ResponseCompleted(turn.t, text, name, fallback), out)
            self.dialogue = self.dialogue.after_agent_turn(TextTurn(turn.t, text, "agent"), self.directive)
            return
        text_queue: asyncio.Queue[str | None] = asyncio.Queue()
        speaking = self._speak(text_queue, start, out)
        try:
            text, name, fallback = await self._respond(request, turn.t, out, config, say=text_queue.put_nowait)
        finally:
            text_queue.put_nowait(None)
        self._emit(ResponseCompleted(turn.t, text, name, fallback), out)
        playback = speaking[0]
        heard = playback.heard() if playback.stopped else text  # interrupted already: only what was heard
        if heard:
            reply = TextTurn(turn.t, heard, "agent")
            self.dialogue = self.dialogue.after_agent_turn(reply, self.directive)
            if self._reply is not None and self._reply[0] is playback:
                self._reply = (playback, reply)
        else:
            self.dialogue = self.dialogue.after_directive(self.directive)
        if not self.speech.realtime:  # a replay: the reply is synthesised before the next observation
            await speaking[1]

    # -- speech ----------------------------------------------------------------------------------------------
    @property
    def speaking(self) -> bool:
        """Whether a reply is playing now."""
        return self.speech is not None and self.speech.playback is not None and self.speech.playback.playing()

    def _speak(
        self, text_queue: asyncio.Queue[str | None], start: float, out: list[Event]
    ) -> tuple[Playback, asyncio.Task[None]]:
        """Start speaking the reply whose text arrives on ``text_queue`` (None ends it)."""
        assert self.speech is not None and self.directive is not None
        out += self.interrupt()  # never two replies at once
        playback = self.speech.start(lambda: self._media_t)
        self._reply = (playback, None)

        async def text() -> AsyncIterator[str]:
            while (chunk := await text_queue.get()) is not None:
                yield chunk

        def emit(event: Event) -> None:
            if isinstance(event, SpeechStarted):
                self.metrics.record("speech.first_audio", self.clock.now() - start)
            self._emit(event, out)

        whole = getattr(self.responder, "whole_sentences", False)  # speak each checked sentence as it is released
        prosody = directive_prosody(self.directive)
        task = asyncio.ensure_future(self.speech.speak(playback, text(), prosody, emit, whole_sentences=whole))
        self.speech.task = task
        return playback, task

    def interrupt(self, t: float | None = None) -> list[Event]:
        """Barge-in: stop the reply playing at time ``t`` (now: the playback clock) and keep in the history only
        what was heard of it (nothing heard: the reply leaves the history). Returns the events (none when quiet)."""
        out: list[Event] = []
        if self.speech is None or self.speech.playback is None or self._reply is None:
            return out
        if t is not None and not self.speech.realtime:  # a replay's playback runs on media time
            self._media_t = max(self._media_t, t)
        self._settle_speech(self._media_t, out)  # a reply already over ends as it was, not interrupted
        if self.speech.playback is None:
            return out
        playback, reply = self._reply
        if not self.speech.end(playback, lambda e: self._emit(e, out), t, interrupted=True):
            return out
        if reply is not None:
            heard = playback.heard()
            turns = tuple(
                dataclasses.replace(x, text=heard) if x is reply else x
                for x in self.dialogue.turns
                if x is not reply or heard
            )
            self.dialogue = dataclasses.replace(self.dialogue, turns=turns)
        return out

    def reference(self, t0: float, t1: float) -> np.ndarray:
        """The agent's own voice playing between ``t0`` and ``t1`` (at ``speech.speaker.sample_rate``; silence
        when quiet), so the listening side can tell it from the person's."""
        if self.speech is None:
            raise ValueError("this session does not speak")
        return self.speech.reference(t0, t1)

    def _settle_speech(self, t: float, out: list[Event]) -> None:
        """In a replay, a reply whose audio has all played by media time ``t`` ends (live, its task ends it)."""
        playback = None if self.speech is None else self.speech.playback
        if playback is not None and not self.speech.realtime and playback.complete and t >= playback.end:
            self.speech.end(playback, lambda e: self._emit(e, out))

    def _decide(self, words: bool) -> ToneDirective:
        """The policy's directive; without ``words`` it sees the user's turns blanked and summarises no words."""
        if words:
            return self.policy.decide(self.state, self.dialogue)
        blank = tuple(dataclasses.replace(t, text="") if t.speaker == "user" else t for t in self.dialogue.turns)
        directive = self.policy.decide(self.state, dataclasses.replace(self.dialogue, turns=blank))
        if not directive.escalate:
            return directive
        return dataclasses.replace(directive, handoff_summary=handoff_summary(self.state, self.dialogue, words=False))

    async def _respond(
        self,
        request: ResponseRequest,
        t: float,
        out: list[Event],
        config: RunnableConfig | None,
        say: Callable[[str], None] | None = None,
    ) -> tuple[str, str, bool]:
        """Stream the responder (each chunk also to ``say``); on failure fall back to the template, keeping what was
        already sent."""
        assert self.responder is not None
        start = self.clock.now()
        pieces: list[str] = []
        name = getattr(self.responder, "name", None) or type(self.responder).__name__
        try:
            async for chunk in self.responder.astream(request, config):
                if not pieces:
                    self.metrics.record("response.first_token", self.clock.now() - start)
                pieces.append(chunk)
                self._emit(ResponseChunk(t, chunk), out)
                if say is not None:
                    say(chunk)
            self.metrics.record("response.total", self.clock.now() - start)
            return "".join(pieces), name, False
        except Exception as exc:
            retryable = exc.retryable if isinstance(exc, EmpathicError) else True
            self._emit(ComponentFailed(t, f"responder.{name}", f"{type(exc).__name__}: {exc}", retryable), out)
        text = await self.fallback.ainvoke(request, config)
        if pieces:  # keep what the person already saw, then finish with the template
            text = " " + text
        self._emit(ResponseChunk(t, text), out)
        if say is not None:
            say(text)
        self.metrics.record("response.total", self.clock.now() - start)
        return "".join(pieces) + text, getattr(self.fallback, "name", "fallback"), True
