"""Voice perception: microphone and files in, 16 kHz mono inside, VAD turn ends, Whisper words, vocal emotion.

:class:`SpeechPipeline` is the session's :class:`~perception.transcriber.Transcriber`: it segments speech with
Silero VAD (webrtcvad as fallback), transcribes each utterance with whisper-base through CTranslate2, and attaches
a voice estimate from a head on the same encoder pass plus speaker-normalised prosody.
"""

from empathic.perception.voice.asr import AsrBackend, Transcription, Word, load_backend
from empathic.perception.voice.audio import RATE, to_mono16k
from empathic.perception.voice.microphone import MicrophoneUnavailable, microphone_chunks
from empathic.perception.voice.pipeline import SpeechPipeline, VoiceConfig, VoiceReading
from empathic.perception.voice.prosody import Prosody, ProsodyAnalyzer
from empathic.perception.voice.segmenter import Segment, Segmenter, SegmenterConfig
from empathic.perception.voice.vad import load_vad

__all__ = [
    "RATE",
    "AsrBackend",
    "MicrophoneUnavailable",
    "Prosody",
    "ProsodyAnalyzer",
    "Segment",
    "Segmenter",
    "SegmenterConfig",
    "SpeechPipeline",
    "Transcription",
    "VoiceConfig",
    "VoiceReading",
    "Word",
    "load_backend",
    "load_vad",
    "microphone_chunks",
    "to_mono16k",
]
