"""Judgement in real conversations (issue 13): intents, sarcasm, other languages, emoji, cue misfires, long turns
and explanations. Everything here runs on the lexicon perceiver and the patterns; the MiniLM checks at the end are
skipped where the MiniLM model is not fetched."""

import pytest
from empathic.perception import FusionConfig, Intent, ModalityEstimate, WeightedFuser
from empathic.perception.errors import ModelNotFound
from empathic.perception.estimates import Cue
from empathic.perception.labels import COMPLEX_STATES, INTENTS, LABEL_WORDS
from empathic.perception.observations import TextTurn
from empathic.perception.registry import default_registry
from empathic.perception.text.analysis import LONG_TURN, PASSAGE_CHARS, TAIL_CHARS, TOP_CHARS, read_turn
from empathic.perception.text.cues import find_cues
from empathic.perception.text.intents import detect_intents
from empathic.perception.text.language import detect_language
from empathic.perception.text.lexicon import LexiconTextPerceiver
from empathic.perception.text.sentiment import analyzer, polarity

SARCASTIC = (
    "Oh great, another 2 hours on hold, just perfect.",
    "Fantastic service as always. Can't wait to do this again next month.",
    "Thanks for nothing.",
    "I just love being charged twice for the same order.",
    "Thanks a lot for nothing, really.",
    'Your "support" is a joke.',
)
_STORY = (
    "I ordered a standing desk on the third and the page said it would ship within five working days. "
    "The tracking number came on the ninth and the parcel service said it would arrive on the twelfth. "
    "I took the day off work to be home for the delivery, because the box needs two people to carry. "
    "I wrote to your support address on the thirteenth and got an automatic reply with a ticket number. "
)
LONG_ANGRY = (
    _STORY * 6 + "I am furious and exhausted, this is the worst service, and nobody is actually reading what I write."
)


def _read(text):
    return LexiconTextPerceiver().estimate(TextTurn(0.0, text))


def _top(est):
    return max(est.probs, key=est.probs.__getitem__)


def _names(text):
    return [i.name for i in detect_intents(text)]


# -- intents -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "Stop. Get me a human being, now.",
        "I want a real person.",
        "Can I speak to someone?",
        "Let me talk to your manager.",
        "I need to speak with a supervisor please",
        "Transfer me.",
        "Please escalate this.",
        "Is there anyone else I can talk to?",
        "Put me through to a representative",
        "Agent!",
        "No, get me a human",
        "Why can't I talk to a human?",
    ],
)
def test_handover_requests_in_many_phrasings(text):
    assert "handover_request" in _names(text) and "declines_handover" not in _names(text)


@pytest.mark.parametrize(
    "text",
    [
        "No need for a human, you are doing fine.",
        "Don't transfer me.",
        "I don't need a manager, just fix it",
        "I don't want to talk to a person",
        "I'd rather stick with you",
        "Please do not escalate this",
    ],
)
def test_declining_a_person_is_not_asking_for_one(text):
    assert "declines_handover" in _names(text) and "handover_request" not in _names(text)
    assert not find_cues(text).has("asks_for_human")  # the cue the policies used to read agrees


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Thank you so much!", "thanks"),
        ("Oh I get it now", "insight"),
        ("That makes sense", "insight"),
        ("Hello there", "greeting"),
        ("Bye, have a nice day", "closing"),
        ("That's not what I said", "correction"),
        ("Yes, that works", "agreement"),
        ("Is it 42?", "answer_attempt"),
        ("How do I reset my password?", "question"),
        ("I've been charged twice and I want a refund", "complaint"),
    ],
)
def test_other_intents(text, intent):
    assert intent in _names(text)


@pytest.mark.parametrize(
    ("text", "not_intent"),
    [
        ("Thanks for nothing.", "thanks"),
        ("No thanks", "thanks"),
        ("I don't get it", "insight"),
        ("That doesn't make sense", "insight"),
        ("Yeah right", "agreement"),
        ("Is it possible to get a refund?", "answer_attempt"),
        ("I ordered a lamp last week", "handover_request"),
    ],
)
def test_intents_not_read_into_lookalikes(text, not_intent):
    assert not_intent not in _names(text)


def test_intent_is_typed_and_travels_on_the_estimate():
    assert set(INTENTS) >= {"handover_request", "declines_handover", "insight"}
    with pytest.raises(ValueError):
        Intent("wants_pizza", 0.5)
    with pytest.raises(ValueError):
        Intent("thanks", 1.5)
    assert ModalityEstimate("face", 0.0, {}, 0.0, 0.0, 0.0).intents == ()
    est = _read("I want a real person.")
    assert est.intents[0].name == "handover_request" and est.intents[0].evidence
    assert _top(est) != "happy" and est.valence < 0  # asking for a person is not contentment


# -- sarcasm -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", SARCASTIC)
def test_sarcasm_reads_negative_with_its_cue(text):
    est = _read(text)
    assert "sarcasm" in COMPLEX_STATES
    assert est.complex_states["sarcasm"] >= 0.5
    assert est.valence < 0 and _top(est) != "happy"
    assert any("sarcasm" in c.supports for c in est.cues)
    assert not any(c.name == "joy_words" for c in est.cues)  # the praise is not evidence of joy
    assert not {"thanks", "agreement"} & {i.name for i in est.intents}


@pytest.mark.parametrize(
    "text", ["Thanks again, great help!", "Great, it works now, the error is gone!", "I love this course"]
)
def test_sincere_praise_stays_happy(text):
    est = _read(text)
    assert est.complex_states.get("sarcasm", 0.0) < 0.5 and _top(est) == "happy" and est.valence > 0


def test_smile_with_negative_words_supports_sarcasm_in_fusion():
    def fuse(face_valence):
        f = WeightedFuser()
        f.update(ModalityEstimate("face", 1.0, {"happy": 0.9, "neutral": 0.1}, face_valence, 0.3, 0.8))
        f.update(ModalityEstimate("text", 1.0, {"angry": 0.6, "neutral": 0.4}, -0.6, 0.4, 0.7))
        return f.state(1.0)

    assert fuse(0.8).complex_states["sarcasm"] > 0.4
    f = WeightedFuser()
    f.update(_read(SARCASTIC[0]))
    state = f.state(0.0)
    assert state.dominant != "happy" and "sarcasm" in state.explanation


# -- languages and emoji -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("No entiendo nada de esta demostración.", "es"),
        ("Je ne comprends rien à cette démonstration", "fr"),
        ("Ich verstehe das nicht", "de"),
        ("Это не работает", "ru"),
        ("I want a real person", "en"),
        ("Oh la la", "en"),
    ],
)
def test_language_is_told_cheaply(text, code):
    assert detect_language(text) == code


def test_other_languages_read_with_low_confidence_and_say_so():
    est = _read("No entiendo nada de esta demostración.")
    assert est.confidence <= 0.2 and max(est.probs.values()) < 0.7
    assert any(c.name == "language" and c.text == "es" for c in est.cues)
    f = WeightedFuser()
    f.update(est)
    assert "not in English (es)" in f.state(0.0).explanation


@pytest.mark.parametrize(
    ("text", "label", "sign"),
    [("😡😡", "angry", -1), ("😭", "sad", -1), ("😱", "fear", -1), ("🙂", "happy", 1), ("👍", "happy", 1)],
)
def test_emoji_only_turns_get_a_real_estimate(text, label, sign):
    est = _read(text)
    assert _top(est) == label and est.valence * sign > 0.2 and est.confidence >= 0.3
    assert any(c.name == "emoji" for c in est.cues)


def test_mind_blown_and_eye_roll():
    blown, roll = _read("🤯"), _read("🙄")
    assert blown.valence < 0 and blown.probs["surprise"] > 0.25 and blown.probs["neutral"] < 0.5
    assert roll.valence < 0 and roll.complex_states["skepticism"] >= 0.5


# -- cue misfires --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "I already know how to add fractions",
        "I keep practising every day",
        "Can you explain it again?",
        "Thanks again!",
        "For the first time I understand this",
        "I'm still learning",
    ],
)
def test_ordinary_words_are_not_repetition(text):
    assert not find_cues(text).has("repetition")


@pytest.mark.parametrize(
    "text", ["I already told you twice", "It keeps crashing", "It still doesn't work", "This is the third time"]
)
def test_real_repetition_still_counts(text):
    assert find_cues(text).has("repetition")


@pytest.mark.parametrize(("text", "cue"), [("I am not happy", "joy_words"), ("Don't worry", "fear_words")])
def test_negated_emotion_words_do_not_count(text, cue):
    assert not find_cues(text).has(cue)


# -- explanations --------------------------------------------------------------------------------------------------
def test_explanations_are_grammatical():
    assert set(LABEL_WORDS) >= set(COMPLEX_STATES)
    f = WeightedFuser()
    f.update(
        ModalityEstimate("text", 1.0, {"surprise": 0.9, "neutral": 0.1}, 0.1, 0.7, 0.8, complex_states={"mixed": 0.6})
    )
    text = f.state(1.0).explanation
    assert "Looks surprised" in text and "Signs of mixed feelings (" in text
    assert "Looks surprise " not in text and "mixed (" not in text


def test_only_the_current_turns_cues_are_current():
    f = WeightedFuser(FusionConfig(stale_after_s={"text": 30.0}))
    old = Cue("repetition", 0.4, "text", "still doesn't", ("frustration",))
    new = Cue("hedge", 0.3, "text", "maybe", ("confusion",))
    f.update(ModalityEstimate("text", 1.0, {"angry": 1.0}, -0.6, 0.5, 0.8, cues=(old,)))
    f.update(ModalityEstimate("text", 3.0, {"neutral": 1.0}, 0.0, 0.0, 0.8, cues=(new,)))
    state = f.state(3.0)
    assert [c.name for c in state.cues] == ["hedge"]
    cues, earlier = state.explanation.split("Earlier:")
    assert "maybe" in cues and "still doesn't" not in cues and "still doesn't" in earlier


# -- long turns ----------------------------------------------------------------------------------------------------
def test_long_turn_is_read_whole_within_a_budget():
    reading = read_turn(LONG_ANGRY * 50)
    assert reading.excerpted and len(reading.text) <= TAIL_CHARS + TOP_CHARS + 600
    assert all(len(p) <= PASSAGE_CHARS for p, _ in reading.passages)
    assert reading.text.endswith("what I write.")  # the ending is always read
    assert "complaint" in [i.name for i in reading.intents]


def test_long_turn_whose_ending_is_angry_reads_negative():
    assert len(LONG_ANGRY) > LONG_TURN
    est = _read(LONG_ANGRY)
    assert est.valence < 0 and est.probs["happy"] < 0.2
    assert sum(est.probs[e] for e in ("angry", "sad", "disgust", "fear")) > est.probs["happy"]


def test_vader_unchanged_on_short_turns_and_bounded_on_long_ones():
    short = "The service was great, but the food was awful!"
    assert polarity(short).compound == analyzer().polarity_scores(short)["compound"]
    long = polarity("Terrible, awful day. " * 2000)
    assert long.compound < -0.5 and 0.0 <= long.neg <= 1.0


# -- the default MiniLM perceiver ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def minilm():
    try:
        default_registry().resolve("all-minilm-l6-v2")
    except ModelNotFound:
        pytest.skip("all-minilm-l6-v2 not fetched (empathic models fetch all-minilm-l6-v2)")
    from empathic.perception.text.minilm import MiniLMTextPerceiver

    return MiniLMTextPerceiver()


def _minilm_read(perceiver, text):
    perceiver.reset()
    return perceiver.estimate(TextTurn(0.0, text))


@pytest.mark.parametrize("text", SARCASTIC[:2])
def test_minilm_reads_sarcasm_as_negative(minilm, text):
    est = _minilm_read(minilm, text)
    assert est.valence < 0 and _top(est) != "happy" and est.complex_states["sarcasm"] >= 0.5


def test_minilm_long_turn_and_intents(minilm):
    est = _minilm_read(minilm, LONG_ANGRY)
    assert est.valence < 0 and _top(est) != "happy"
    asks = _minilm_read(minilm, "I want a real person.")
    assert asks.intents[0].name == "handover_request" and _top(asks) != "happy"
    paraphrase = _minilm_read(minilm, "Could somebody who works at your company look at this instead?")
    assert "handover_request" in [i.name for i in paraphrase.intents]
    assert _minilm_read(minilm, "I already know how to add fractions").intents == ()


def test_minilm_emoji_and_other_languages(minilm):
    assert _top(_minilm_read(minilm, "😡😡")) == "angry"
    spanish = _minilm_read(minilm, "No entiendo nada de esta demostración.")
    assert spanish.confidence <= 0.2 and any(c.name == "language" for c in spanish.cues)
