"""``playcaller ask``: answers from the guidelines on the terminal, one line or JSON each."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.app import Loaded
from bot.cli.options import index_cache
from bot.core.errors import ConfigError


def run(loaded: Loaded, args: argparse.Namespace) -> int:
    from bot.knowledge.answer import GuidelineStore, ask_json

    store = loaded.knowledge
    if args.guidelines:
        try:
            store = GuidelineStore(Path(args.guidelines), cache_dir=index_cache("ask"))
        except ConfigError as error:
            for problem in error.problems:
                print(f"playcaller: {problem}", file=sys.stderr)
            return 2
    joined = " ".join(args.question).strip()
    if not joined:
        print("playcaller: ask needs a question (or - to read them from stdin)", file=sys.stderr)
        return 2
    if joined == "-":
        questions = [line.strip() for line in sys.stdin.read().splitlines() if line.strip()]
    else:
        questions = [joined]
    for question in questions:
        answer = store.answer(question)
        if args.json:
            print(json.dumps(ask_json(answer), ensure_ascii=False))
        elif answer.answered:
            best = answer.sources[0]
            print(
                f"{answer.passage}\n  source: {best.doc}: {best.heading}"
                f" (confidence {answer.confidence:.2f})"
            )
        else:
            leads = "; ".join(f"{s.doc}: {s.heading}" for s in answer.sources) or "none"
            print(f"I don't know (confidence {answer.confidence:.2f}). Nearest: {leads}")
    return 0
