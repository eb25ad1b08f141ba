import json

import pytest
from empathic.ui.cli import main


@pytest.fixture
def script(tmp_path):
    f = tmp_path / "turns.txt"
    f.write_text(
        "Hi, my order is late.\nThis is ridiculous, it STILL hasn't arrived!!\nI want to talk to a real person.\n",
        encoding="utf-8",
    )
    return f


def run_lines(capsys, argv):
    assert main(argv) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_run_text_file_prints_the_jsonl_timeline(capsys, script):
    records = run_lines(capsys, ["run", "--text-file", str(script)])
    by_type = {}
    for r in records:
        assert {"type", "t"} <= set(r)
        by_type.setdefault(r["type"], []).append(r)
    assert len(by_type["state"]) == len(by_type["directive"]) == len(by_type["response"]) == 3
    for r in by_type["state"]:
        assert {"dominant", "valence", "arousal", "confidence", "probs", "explanation"} <= set(r)
        assert abs(sum(r["probs"].values()) - 1) < 1e-3
    assert all({"tone", "moves"} <= set(r) for r in by_type["directive"])
    assert all(r["text"] for r in by_type["response"])
    assert by_type["directive"][1]["moves"][:2] == ["acknowledge", "apologize"]
    assert by_type["directive"][2]["escalate"] is True
    assert [r["t"] for r in records] == sorted(r["t"] for r in records)


def test_run_is_byte_identical_twice(capsys, script):
    main(["run", "--text-file", str(script), "--profile", "tutoring"])
    first = capsys.readouterr().out
    main(["run", "--text-file", str(script), "--profile", "tutoring"])
    assert capsys.readouterr().out == first


def test_run_needs_an_input():
    with pytest.raises(SystemExit):
        main(["run"])


def test_eval_text_prints_metrics(capsys, tmp_path):
    (tmp_path / "labels.csv").write_text(
        "text,emotion,speaker\nI love this so much,happy,a\nThis is terrible and I hate it,angry,b\n"
        "It is a table,neutral,a\n,,\nI feel contempt,contempt,b\n",
        encoding="utf-8",
    )
    out = run_lines(capsys, ["eval", "text", "--data", str(tmp_path), "--by", "speaker"])[0]
    assert out["n"] == 3 and out["n_excluded"] == 2
    assert 0 <= out["accuracy"] <= 1 and "macro_f1" in out and "ms_per_item" in out
    assert set(out["by"]["speaker"]) == {"a", "b"}


def test_eval_missing_data_is_a_clear_error(capsys, tmp_path):
    assert main(["eval", "text", "--data", str(tmp_path / "nope")]) == 2
    assert "labels.csv" in capsys.readouterr().err


def test_bench_session_prints_stage_latencies(capsys):
    out = run_lines(capsys, ["bench", "session", "-n", "20"])[0]
    assert out["turns"] == 20 and out["stages"]["policy"]["n"] == 20 and out["turns_per_s"] > 0


def test_models_list_shows_licenses(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("EMPATHIC_MODELS_DIR", str(tmp_path))
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "whisper-base-ct2" in out and "MIT" in out and "missing" in out
    assert main(["models", "verify"]) == 1
    assert "empathic models fetch" in capsys.readouterr().out


def test_run_redacts_personal_data_unless_asked(capsys, tmp_path):
    f = tmp_path / "pii.txt"
    f.write_text("My email is jo@example.com and my card is 4111 1111 1111 1111\n", encoding="utf-8")
    out = capsys.readouterr() and run_lines(capsys, ["run", "--text-file", str(f)])
    turn = next(r for r in out if r["type"] == "turn_end")
    assert turn["text"] == "My email is [email] and my card is [card]"
    raw = run_lines(capsys, ["run", "--text-file", str(f), "--no-redact"])
    assert "jo@example.com" in next(r for r in raw if r["type"] == "turn_end")["text"]


@pytest.mark.parametrize("days", ["nan", "inf", "0.5"])
def test_retention_must_be_finite_and_at_least_a_day(days, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", "--text-file", "turns.txt", "--record", "rec", "--retention-days", days])
    assert exc.value.code == 2 and "at least 1" in capsys.readouterr().err


def test_serve_preloads_models_unless_told_not_to():
    from empathic.ui.cli import build_parser

    assert build_parser().parse_args(["serve"]).preload is True
    assert build_parser().parse_args(["serve", "--no-preload"]).preload is False
