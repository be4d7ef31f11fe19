"""Guideline answers: Markdown guidelines, a BM25 index over their sections, extractive answers.

:class:`GuidelineStore` implements the :class:`bot.core.knowledge.Knowledge` port;
:func:`ask_json` is the shape the CLI prints.
"""

from bot.knowledge.answer import DEFAULT_CACHE_DIR, GuidelineStore, ask_json
from bot.knowledge.confidence import DEFAULT_THRESHOLD, Calibration
from bot.knowledge.documents import Document, Section, load_folder
from bot.knowledge.index import IndexOptions

__all__ = [
    "DEFAULT_CACHE_DIR",
    "DEFAULT_THRESHOLD",
    "Calibration",
    "Document",
    "GuidelineStore",
    "IndexOptions",
    "Section",
    "ask_json",
    "load_folder",
]
