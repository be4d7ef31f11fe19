"""**Raise as crisis** on a spike alert: ``/crisis raise`` with the alert attached.

The crisis leads get the crisis flow's raise card in the hub (Declare,
Dismiss), worded from the alert: which spoke or topic, how many mentions in
the window against the usual, and the largest group's example when the spoke
is in a surge.
"""

from __future__ import annotations

from bot.core.errors import NotFound
from bot.core.events import Action
from bot.core.permissions import Permission
from bot.core.text import single_line
from bot.core.turn import Turn
from handlers.crisis.raising import raise_situation
from handlers.surge import spikes
from handlers.surge.alerts import KIND, surge_groups
from handlers.surge.routes import router


@router.action(
    "surge.raise_crisis", permission=Permission.RAISE_CRISIS, doing="raise a possible crisis"
)
async def on_raise_crisis(turn: Turn, action: Action) -> None:
    key = action.value
    record = await turn.store.get(KIND, key)
    if record is None:
        raise NotFound(f"There is no spike alert for {single_line(key, 60)}.")
    state = spikes.from_data(key, dict(record.data), record.version)
    series = key.removeprefix("spoke.")
    topic = series.removeprefix("topic.") if series.startswith("topic.") else ""
    settings = turn.settings
    spoke = "" if topic else settings.spoke(series).name if settings.has_spoke(series) else series
    groups = await surge_groups(turn, series)
    text = turn.render(
        "surge/raise_text.txt",
        spoke=spoke,
        topic=topic,
        count=state.alert_count,
        window=settings.spikes.window,
        usual=round(state.baseline),
        example=single_line(groups[0].example.text, 200) if groups else "",
        size=groups[0].size if groups else 0,
    )
    await raise_situation(turn, text)
