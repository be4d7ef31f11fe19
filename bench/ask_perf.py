"""Time the guideline store: the full engine on real documents, the BM25 stage at scale.

Part 1, the shipped engine (BM25 + MiniLM) on the 16 handbook documents of
``eval/ask/handbooks``: model load, cold build (parse, index, embed every window,
write the cache), warm start from the cache, and the latency of ``answer`` over the
question texts of both evaluation sets (no per-question output), beside the same
store on BM25 alone measured in the same run (the ratio is reported); then the RSS
of this process with the model loaded and the peak RSS of a ``playcaller ask``
process (the bot with its config, guidelines and model) answering one question.

Part 2, the BM25 stage at scale (``semantic_weight=0``; embedding 5,000 sections
takes minutes and is a one-off, persisted): 500 synthetic documents of 10 sections
(words drawn from the real guidelines plus made-up words): cold build, warm start,
rebuild after one file changed, and ``answer`` latency over 1,000 made-up questions.

    uv run python bench/ask_perf.py [--docs 500] [--sections 10] [--queries 1000]

Targets: p95 answer latency < 100 ms with the model, bot RSS < 400 MB; BM25 stage
build < 5 s and p95 < 10 ms at 5,000 sections.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.knowledge import GuidelineStore, IndexOptions  # noqa: E402
from bot.knowledge.embedder import shared_embedder  # noqa: E402
from bot.knowledge.text import Analyzer  # noqa: E402

GUIDELINES = ROOT / "playbooks" / "guidelines"
HANDBOOKS = ROOT / "eval" / "ask" / "handbooks"
QUESTION_FILES = (ROOT / "eval" / "ask" / "questions.jsonl", HANDBOOKS / "questions.jsonl")
BM25_ONLY = IndexOptions(semantic_weight=0.0)


def current_rss_mb() -> float:
    """This process's resident set size now (Linux)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def latencies_ms(store: GuidelineStore, texts: list[str]) -> list[float]:
    """The time of ``answer`` for each text (after five warm-up questions)."""
    for text in texts[:5]:
        store.answer(text)
    found = []
    for text in texts:
        start = time.perf_counter()
        store.answer(text)
        found.append((time.perf_counter() - start) * 1000)
    return found


def bot_peak_rss_mb(work: Path) -> float:
    """Peak RSS of ``playcaller ask`` answering one question (index cache warm)."""
    env = {**os.environ, "PLAYCALLER_INDEX_DIR": str(work / "bot-index")}
    command = [sys.executable, "-m", "bot.cli", "ask", "can I say I work here on Instagram?"]
    subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True)  # warm
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(after, before) / 1024


def real_documents(work: Path) -> None:
    """Part 1: the shipped engine on the handbook documents."""
    folder, cache = work / "handbooks", work / "handbooks-cache"
    folder.mkdir()
    for path in HANDBOOKS.glob("*.md"):
        if path.name not in ("README.md", "QUESTIONS.md"):
            shutil.copy(path, folder / path.name)
    texts = [
        json.loads(line)["question"]
        for path in QUESTION_FILES
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    start = time.perf_counter()
    assert shared_embedder() is not None, "the model package must be installed"
    model = time.perf_counter() - start
    rss_model = current_rss_mb()
    start = time.perf_counter()
    store = GuidelineStore(folder, cache_dir=cache, check_interval=None)
    store.index.window_vectors()
    build = time.perf_counter() - start
    start = time.perf_counter()
    warm = GuidelineStore(folder, cache_dir=cache, check_interval=None)
    warm.index.window_vectors()
    load = time.perf_counter() - start
    assert warm.index.loaded_from_cache
    semantic = latencies_ms(warm, texts)
    lexical = latencies_ms(GuidelineStore(folder, cache_dir=None, options=BM25_ONLY), texts)
    windows = len(warm.index.window_section)
    p95, p95_bm25 = percentile(semantic, 95), percentile(lexical, 95)
    print(
        f"handbooks: {len(warm.index.documents)} documents, {len(warm.index.sections)} "
        f"sections, {windows} windows, {len(texts)} questions; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(f"model load (read, hash check, tokenizer):  {model:.2f} s")
    print(f"cold build with embeddings:                {build:.2f} s")
    print(f"warm start from the cache:                 {load:.2f} s")
    print(
        f"answer latency, BM25 + MiniLM: p50 {percentile(semantic, 50):.1f} ms, "
        f"p95 {p95:.1f} ms, max {max(semantic):.1f} ms"
    )
    print(
        f"answer latency, BM25 alone (same run): p50 {percentile(lexical, 50):.2f} ms, "
        f"p95 {p95_bm25:.2f} ms (p95 ratio {p95 / p95_bm25:.0f}x)"
    )
    bot_rss = bot_peak_rss_mb(work)
    print(f"RSS of this process with the model loaded: {rss_model:.0f} MB")
    print(f"peak RSS of `playcaller ask` (bot, config, guidelines, model): {bot_rss:.0f} MB")
    ok = p95 < 100 and bot_rss < 400
    print("targets (p95 < 100 ms, bot RSS < 400 MB):", "met" if ok else "MISSED")
    print()


def real_words() -> list[str]:
    """Every word of the real guidelines (with repeats, so frequent words stay frequent)."""
    words: list[str] = []
    for path in sorted(GUIDELINES.glob("*.md")):
        words += [w for w in path.read_text(encoding="utf-8").split() if w.isalpha()]
    return words or ["post", "reply", "customer", "coach", "journalist"]


def made_up_words(rng: random.Random, count: int) -> list[str]:
    """Random lower-case words of 4 to 10 letters."""
    return [
        "".join(rng.choices(string.ascii_lowercase, k=rng.randint(4, 10))) for _ in range(count)
    ]


def sentence(rng: random.Random, real: list[str], fake: list[str]) -> str:
    """A sentence of 8 to 20 words, about one in five of them made up."""
    words = [rng.choice(fake) if rng.random() < 0.2 else rng.choice(real) for _ in range(20)]
    words = words[: rng.randint(8, 20)]
    return " ".join(words).capitalize() + "."


def write_store(folder: Path, docs: int, sections: int, seed: int = 1) -> None:
    """Write ``docs`` guidelines of ``sections`` sections each into ``folder``."""
    rng = random.Random(seed)
    real = real_words()
    fake = made_up_words(rng, 5000)
    for d in range(docs):
        title = " ".join(rng.choice(real) for _ in range(4)).capitalize()
        lines = [
            "---",
            f"title: {title} {d}",
            f"owner: owner{d % 7}",
            "last_reviewed: 2026-01-15",
            f"tags: [{rng.choice(fake)}, {rng.choice(fake)}]",
            "---",
            f"# {title} {d}",
            "",
            " ".join(sentence(rng, real, fake) for _ in range(2)),
        ]
        for s in range(sections - 1):
            heading = " ".join(rng.choice(real) for _ in range(3)).capitalize()
            lines += ["", f"## {heading} {s}", ""]
            lines += [" ".join(sentence(rng, real, fake) for _ in range(rng.randint(2, 5)))]
        (folder / f"doc-{d:04d}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def questions(store: GuidelineStore, count: int, seed: int = 2) -> list[str]:
    """Questions of 3 to 10 words from random sections, some misspelt or off topic."""
    rng = random.Random(seed)
    analyzer = Analyzer()
    sections = store.index.sections
    made: list[str] = []
    for _ in range(count):
        words = analyzer.words(rng.choice(sections).text)
        picked = rng.sample(words, min(len(words), rng.randint(3, 10)))
        if picked and rng.random() < 0.3:  # a typo: two letters swapped
            i = rng.randrange(len(picked))
            w = picked[i]
            if len(w) > 4:
                picked[i] = w[:2] + w[3] + w[2] + w[4:]
        if rng.random() < 0.2:
            picked += made_up_words(rng, 2)
        made.append("how do I " + " ".join(picked) + "?")
    return made


def percentile(values: list[float], q: float) -> float:
    """The ``q`` percentile (0-100) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def main(argv: list[str] | None = None) -> int:
    """Build, time and report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=500)
    parser.add_argument("--sections", type=int, default=10)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--real-only", action="store_true", help="part 1 only")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="ask-perf-"))
    try:
        real_documents(work)
        if args.real_only:
            return 0
        folder, cache = work / "guidelines", work / "cache"
        folder.mkdir()
        write_store(folder, args.docs, args.sections)

        start = time.perf_counter()
        store = GuidelineStore(folder, cache_dir=cache, options=BM25_ONLY, check_interval=None)
        build = time.perf_counter() - start
        n_sections = len(store.index.sections)

        start = time.perf_counter()
        warm = GuidelineStore(folder, cache_dir=cache, options=BM25_ONLY, check_interval=None)
        load = time.perf_counter() - start
        assert warm.index.loaded_from_cache

        made = questions(store, args.queries)
        for question in made[:20]:  # warm up
            store.answer(question)
        latencies = []
        answered = 0
        for question in made:
            start = time.perf_counter()
            answer = store.answer(question)
            latencies.append((time.perf_counter() - start) * 1000)
            answered += answer.answered

        checking = GuidelineStore(folder, cache_dir=None, options=BM25_ONLY, check_interval=0.0)
        start = time.perf_counter()
        for question in made[:200]:
            checking.answer(question)
        with_check = (time.perf_counter() - start) / 200 * 1000

        target = folder / "doc-0000.md"
        target.write_text(target.read_text(encoding="utf-8") + "\nOne more line.\n")
        start = time.perf_counter()
        assert store.refresh()
        rebuild = time.perf_counter() - start

        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # incl. part 1
        print("BM25 stage at scale (semantic_weight=0):")
        print(f"store: {args.docs} documents, {n_sections} sections, {len(made)} questions")
        print(f"cold build (parse + index + cache write): {build:.2f} s")
        print(f"warm start from the cache:                {load:.2f} s")
        print(f"rebuild after one file changed:           {rebuild:.2f} s")
        print(
            f"answer latency: p50 {percentile(latencies, 50):.2f} ms, "
            f"p95 {percentile(latencies, 95):.2f} ms, max {max(latencies):.2f} ms "
            f"({answered} of {len(made)} answered)"
        )
        print(f"answer latency with a change check on every call: {with_check:.2f} ms mean")
        print(f"peak RSS: {peak_mb:.0f} MB")
        ok = build < 5 and percentile(latencies, 95) < 10
        print("targets (build < 5 s, p95 < 10 ms at this scale):", "met" if ok else "MISSED")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
