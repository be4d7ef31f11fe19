"""The trained sentiment model: its shipped file, its training, its decision."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import sys
from dataclasses import replace
from pathlib import Path
from types import ModuleType

import pytest

from bot.core.sentiment_features import features, tokens
from bot.core.sentiment_model import (
    Decision,
    LinearSentiment,
    ModelFileError,
    model_from_data,
)
from bot.intake.enrich import MODEL_FILE, RulesSentiment, VaderSentiment, shipped_model

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "eval" / "sentiment"
SHIPPED = ROOT / "bot" / "intake" / MODEL_FILE
ENGINE = VaderSentiment()
RULES = RulesSentiment()


def shipped_data() -> dict[str, object]:
    data = json.loads(SHIPPED.read_text("utf-8"))
    assert isinstance(data, dict)
    return data


def test_the_shipped_model_loads_and_matches_its_training_files() -> None:
    data = shipped_data()
    assert SHIPPED.stat().st_size < 2_000_000
    files = data["training_files"]
    assert isinstance(files, list)
    names = [f["name"] for f in files]
    # Every training group, and never a held-out set.
    for name in ("dev.jsonl", "writer_dev.jsonl", "holdout2.jsonl", "corpus1.jsonl"):
        assert name in names
    assert not [n for n in names if n.startswith(("holdout3", "holdout4"))]
    for entry in files:
        digest = hashlib.sha256((EVAL / entry["name"]).read_bytes()).hexdigest()
        assert digest == entry["sha256"], f"{entry['name']} changed since the model was trained"
    model = shipped_model()
    assert model is shipped_model()  # read once per process
    assert len(model.weights) > 1000 and "bias" in model.weights


def _train_module() -> ModuleType:
    sys.path[:0] = [str(EVAL)]
    try:
        spec = importlib.util.spec_from_file_location("sentiment_train", EVAL / "train.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # its dataclasses look their module up
        spec.loader.exec_module(module)
        return module
    finally:
        del sys.path[0]


def test_training_is_deterministic() -> None:
    train = _train_module()
    items = train.load(["sentset"], limit=80)
    first = train.train(items, 3.0)
    second = train.train(items, 3.0)
    assert first == second
    # The weights say something: the complaint head leans on the rules' complaint signal.
    assert first["s:complaint"][0] > 0


# The issue's two examples: VADER alone says positive for both.
ISSUE_ORDER = "@FreshCart my order never arrived and nobody answers. I want a refund now!"
ISSUE_LAWSUIT = "Thinking about suing Acme over the late fees. Does anyone know a good lawyer?"


@pytest.mark.parametrize("text", [ISSUE_ORDER, ISSUE_LAWSUIT])
def test_the_issues_examples_are_negative_complaints(text: str) -> None:
    s = ENGINE.assess(text, "x")
    assert s.compound > 0
    assert (s.label, s.complaint) == ("negative", True)


def test_the_model_decides_not_the_rules_alone() -> None:
    """The same reading with the model's weights zeroed shows nothing: every
    head sits at logit 0 (probability 0.5), so the label and flags follow
    from the thresholds alone; the shipped weights change them."""
    decision = shipped_model().decision
    silent = VaderSentiment(LinearSentiment({}, decision))
    texts = [ISSUE_ORDER, "@Fernway the new app is brilliant, thank you!", "nice weather today"]

    def shown(engine: VaderSentiment, text: str) -> tuple[str, bool, bool]:
        s = engine.assess(text, "x")
        return s.label, s.complaint, s.urgent

    assert len({shown(silent, t) for t in texts}) == 1
    assert [shown(ENGINE, t)[0] for t in texts] == ["negative", "positive", "neutral"]


def _decision(complaint_with_rules: float = 0.5, urgent_with_rules: float = 0.6) -> Decision:
    return Decision(
        complaint=0.5,
        complaint_with_rules=complaint_with_rules,
        guard=0.3,
        positive=0.8,
        positive_with_rules=0.96,
        negative=0.6,
        urgent=0.6,
        urgent_with_rules=urgent_with_rules,
    )


def test_positive_needs_a_confident_praise_head_and_a_calm_complaint_head() -> None:
    model = LinearSentiment(
        {
            "praise": (0.0, 3.0, 0.0, 0.0),  # p(positive) 0.95
            "shaky": (-0.5, 0.0, 0.0, 0.0),  # p(complaint) 0.38: under 0.5, over the 0.3 guard
            "calm": (-2.0, 0.0, 0.0, 0.0),
            "angry": (2.0, -2.0, 2.0, -2.0),
            "alarm": (-2.0, 0.0, -2.0, 1.0),
        },
        _decision(),
    )
    assert model.decide({"praise", "calm"}, False, False).label == "positive"
    # The bar when the rules show praise is the decision's own (here higher).
    assert model.decide({"praise", "calm"}, False, False, True).label == "neutral"
    # Not a complaint, yet too close to one to show praise: neutral, the cheap error.
    assert model.decide({"praise", "shaky"}, False, False).label == "neutral"
    angry = model.decide({"angry"}, False, False)
    assert (angry.label, angry.complaint, angry.urgent) == ("negative", True, False)
    assert model.decide({"alarm"}, False, False).urgent
    # The rules' vote lowers the bar only as far as the decision says:
    # "shaky" is p(complaint) 0.38, "calm" 0.12.
    assert not model.decide({"shaky"}, True, False).complaint
    ruled = LinearSentiment(model.weights, _decision(0.3, 0.3))
    assert not ruled.decide({"shaky"}, False, False).complaint
    voted = ruled.decide({"shaky"}, True, False)
    assert (voted.label, voted.complaint, voted.urgent) == ("negative", True, False)
    assert not ruled.decide({"calm"}, True, False).complaint
    # An urgent complaint the rules find stands, whatever the heads say.
    stands = model.decide({"calm", "praise"}, True, True)
    assert (stands.label, stands.complaint, stands.urgent) == ("negative", True, True)
    model_only = replace(_decision(), urgent_complaint_stands=False)
    alone = LinearSentiment(model.weights, model_only).decide({"calm", "praise"}, True, True)
    assert (alone.label, alone.complaint, alone.urgent) == ("positive", False, False)


def test_a_model_file_of_another_shape_is_refused() -> None:
    good = shipped_data()
    with pytest.raises(ModelFileError):
        model_from_data({**good, "format": "something-else/2"})
    with pytest.raises(ModelFileError):
        model_from_data({**good, "heads": ["complaint", "positive"]})
    with pytest.raises(ModelFileError):
        model_from_data({**good, "weights": {"bias": [0.1, 0.2]}})
    decision = good["decision"]
    assert isinstance(decision, dict)
    with pytest.raises(ModelFileError):
        model_from_data({**good, "decision": {**decision, "positive": 1.5}})
    with pytest.raises(ModelFileError):
        model_from_data({**good, "decision": {"complaint": 0.5}})


def test_negation_marks_the_next_words_until_a_clause_ends() -> None:
    assert tokens("Not good at all. Great now") == [
        "not",
        "NOT_good",
        "NOT_at",
        "NOT_all",
        ".",
        "great",
        "now",
    ]
    assert tokens("@AcmeAir didn\u2019t arrive https://example.com/x") == [
        "<handle>",
        "didn't",
        "NOT_arrive",
        "<url>",
    ]


def test_features_name_words_pairs_emojis_cues_and_the_rules_reading() -> None:
    found = features("WHY is my refund late?? \U0001f621", "x", -0.6, 2, ["complaint"], "negative")
    for name in (
        "w:refund",
        "b:refund late",
        "e:\U0001f621",
        "p:?",
        "p:caps",
        "s:complaint",
        "r:negative",
        "n:2",
        "v:2",
        "bias",
    ):
        assert name in found
    assert "s:calm" not in found


@pytest.mark.parametrize(
    ("weights", "decision_change"),
    [
        ({"bias": [0.1, 0.2, {}, 0.4]}, {}),
        ({"bias": [0.1, 0.2, "nan", 0.4]}, {}),
        ({"bias": [0.1, 0.2, float("inf"), 0.4]}, {}),
        ({"bias": [0.1, 0.2, True, 0.4]}, {}),
        (None, {"urgent_complaint_stands": "false"}),
        (None, {"complaint": None}),
    ],
)
def test_bad_values_in_a_model_file_are_refused_by_name(
    weights: dict[str, list[object]] | None, decision_change: dict[str, object]
) -> None:
    good = shipped_data()
    decision = good["decision"]
    assert isinstance(decision, dict)
    bad = {**good, "decision": {**decision, **decision_change}}
    if weights is not None:
        bad["weights"] = weights
    with pytest.raises(ModelFileError):
        model_from_data(bad)


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "No such file"),
        (b'{"format": "playcaller', "sentiment model"),
        (b"[1]", "JSON object"),
    ],
)
def test_a_broken_model_file_stops_start_up_naming_the_file(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    content: bytes | None,
    says: str,
) -> None:
    from bot.cli import main
    from bot.intake import enrich

    model_file = tmp_path / enrich.MODEL_FILE
    if content is not None:
        model_file.parent.mkdir(parents=True)
        model_file.write_bytes(content)
    monkeypatch.setattr(enrich.resources, "files", lambda package: tmp_path)
    enrich.shipped_model.cache_clear()
    try:
        with pytest.raises(ModelFileError, match=re.escape(str(model_file))):
            enrich.shipped_model()
        feed = tmp_path / "feed.jsonl"
        feed.write_text("", encoding="utf-8")
        url = f"sqlite:///{tmp_path / 'store.db'}"
        status = main(
            ["--config", str(ROOT / "playcaller.yaml"), "ingest", str(feed), "--store", url]
        )
    finally:
        enrich.shipped_model.cache_clear()
    err = capsys.readouterr().err
    assert status == 2
    assert f"playcaller: sentiment model {model_file}" in err and says in err
    assert "cannot reach the store" not in err
