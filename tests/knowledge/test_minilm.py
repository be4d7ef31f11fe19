"""The MiniLM encoder: the published weights, the published embeddings, the port."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import numpy as np
import pytest

from bot.knowledge.embedder import MemoEmbedder, shared_embedder
from bot.knowledge.minilm import WEIGHTS_SHA256, MiniLM, ModelUnavailable, model_zip

# Published with sentence-transformers/all-MiniLM-L6-v2: the first six dimensions of
# the embeddings of these sentences (the model card's example sentences and two more),
# as sentence-transformers computes them; see docs/embeddings.md.
REFERENCE = {
    "This is an example sentence": [
        0.06765693,
        0.06349593,
        0.04871314,
        0.07930495,
        0.03744806,
        0.00265273,
    ],
    "Each sentence is converted.": [
        0.07853645,
        0.08856265,
        -0.00209270,
        -0.00717247,
        -0.01252624,
        0.01881747,
    ],
    "": [-0.11883835, 0.04829856, -0.00254805, -0.01101118, 0.05195070, 0.01029179],
    "Café déjà vu — 東京": [
        0.05083271,
        0.00967685,
        0.09635572,
        -0.00997369,
        -0.01987603,
        0.01692343,
    ],
}


@pytest.fixture(scope="module")
def memo() -> MemoEmbedder:
    embedder = shared_embedder()
    assert embedder is not None, "the model package is a dependency: it must load"
    return embedder


def test_the_shipped_weights_are_the_published_ones() -> None:
    with zipfile.ZipFile(model_zip()) as bundle:
        digest = hashlib.sha256(bundle.read("model.safetensors")).hexdigest()
    assert digest == WEIGHTS_SHA256


def test_embeddings_match_the_published_reference(memo: MemoEmbedder) -> None:
    vectors = memo.inner.embed(list(REFERENCE))
    assert vectors.shape == (4, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    expected = np.array(list(REFERENCE.values()), dtype=np.float32)
    assert float(np.abs(vectors[:, :6] - expected).max()) < 1e-6


def test_a_batch_and_single_texts_give_the_same_vectors(memo: MemoEmbedder) -> None:
    texts = ["Pass press enquiries to comms.", "a much longer text " * 40, "hi"]
    together = memo.inner.embed(texts)
    alone = np.vstack([memo.inner.embed([t]) for t in texts])
    assert float(np.abs(together - alone).max()) < 1e-5
    assert memo.inner.embed([]).shape == (0, 384)


def test_similar_sentences_are_closer_than_unrelated_ones(memo: MemoEmbedder) -> None:
    question, near, far = memo.inner.embed(
        [
            "who should talk to reporters?",
            "Only the communications team speaks to journalists.",
            "Book hotels through the travel portal.",
        ]
    )
    assert float(question @ near) > float(question @ far) + 0.2


def test_the_memo_embeds_each_text_once() -> None:
    calls: list[list[str]] = []

    class Counting:
        name = "counting"
        dimension = 2

        def embed(self, texts: list[str]) -> np.ndarray:  # type: ignore[type-arg]
            calls.append(list(texts))
            return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)

    memo = MemoEmbedder(Counting(), capacity=2)
    first = memo.embed(["a", "bb", "a"])
    assert calls == [["a", "bb"]]
    assert first.tolist() == [[1, 1], [2, 1], [1, 1]]
    memo.embed(["bb", "ccc"])
    assert calls[-1] == ["ccc"]
    memo.embed(["a"])  # forgotten: the memo holds two texts at most
    assert calls[-1] == ["a"]


def test_a_tampered_model_is_refused(tmp_path: Path) -> None:
    tampered = tmp_path / "model.zip"
    with zipfile.ZipFile(model_zip()) as original, zipfile.ZipFile(tampered, "w") as copy:
        for info in original.infolist():
            data = original.read(info)
            if info.filename == "model.safetensors":
                data = data[:-4] + b"\0\0\0\0"
            info.compress_type = zipfile.ZIP_STORED  # quick to write
            copy.writestr(info, data)
    with pytest.raises(ModelUnavailable, match="not the published file"):
        MiniLM(tampered)
