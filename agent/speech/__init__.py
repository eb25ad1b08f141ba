"""Speech out: voices (:class:`Speaker`), prosody from the directive, playback that knows what was heard.

The default voice is the registry's piper model run with onnxruntime, phonemes from the ``espeak-ng`` program;
``espeak-ng`` itself is the fallback voice.
"""

from empathic.agent.speech.build import VOICES, build_speaker
from empathic.agent.speech.espeak import EspeakSpeaker
from empathic.agent.speech.output import SpeechOutput
from empathic.agent.speech.piper import PiperSpeaker
from empathic.agent.speech.playback import Playback
from empathic.agent.speech.prosody import VoiceProsody, directive_prosody, prosody_for
from empathic.agent.speech.speaker import SentenceSplitter, Speaker, SpeechSegment, sentences
from empathic.agent.speech.wav import ReplyWavWriter, write_wav

__all__ = [
    "VOICES",
    "EspeakSpeaker",
    "PiperSpeaker",
    "Playback",
    "ReplyWavWriter",
    "SentenceSplitter",
    "Speaker",
    "SpeechOutput",
    "SpeechSegment",
    "VoiceProsody",
    "build_speaker",
    "directive_prosody",
    "prosody_for",
    "sentences",
    "write_wav",
]
