"""The surge card: one live card per spoke in a surge, structure here, words in templates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.core.cards import Badge, Button, ButtonStyle, Card, Field, Row, TextBlock, Tone
from bot.core.text import format_count, snippet
from bot.core.turn import Turn
from handlers.surge.clusters import Cluster
from handlers.surge.records import ClusterClaim, SurgeState
from handlers.surge.window import sparkline

# Groups on the card itself; "Show 10 more" pages through the rest.
SHOWN = 5
PAGE = 10
EXAMPLE = 140
SENTIMENTS = ("negative", "neutral", "positive")


def cluster_value(state: SurgeState, cluster_id: str) -> str:
    """What Claim cluster carries: the surge and the cluster (no card version:
    the cluster's members as last shown are stored, and the claim takes those)."""
    return f"{state.id}|{cluster_id}"


def parse_cluster_value(value: str) -> tuple[str, str]:
    surge_id, _, cluster_id = value.partition("|")
    return surge_id, cluster_id


def mix(cluster: Cluster) -> str:
    """Sentiment shares, e.g. ``80% negative, 20% neutral``."""
    counts = cluster.sentiments()
    total = sum(counts.values()) or 1
    parts = [
        f"{round(100 * counts[label] / total)}% {label}" for label in SENTIMENTS if counts[label]
    ]
    return ", ".join(parts) or "no sentiment"


def cluster_rows(
    turn: Turn,
    state: SurgeState,
    clusters: Sequence[Cluster],
    claims: Mapping[str, ClusterClaim],
) -> tuple[Row, ...]:
    rows = []
    for cluster in clusters:
        claim = claims.get(cluster.id)
        authors = ", ".join(
            f"@{m.handle} ({format_count(m.followers)})" for m in cluster.top_authors()
        )
        text = turn.render(
            "surge/cluster_row.txt",
            size=cluster.size,
            open=cluster.open_count,
            claimed_by=claim.owner_name if claim else "",
            mix=mix(cluster),
            authors=authors,
        )
        button = None
        if claim is None and cluster.open_count and state.surging:
            button = Button(
                "Claim cluster",
                "surge.claim",
                cluster_value(state, cluster.id),
                ButtonStyle.PRIMARY,
            )
        rows.append(Row(text=text, snippet=snippet(cluster.example.text, EXAMPLE), button=button))
    return tuple(rows)


def surge_card(
    turn: Turn,
    state: SurgeState,
    *,
    clusters: Sequence[Cluster],
    claims: Mapping[str, ClusterClaim],
    in_window: int,
    spark: Sequence[int],
    open_count: int | None = None,
) -> Card:
    """The live card while the surge lasts; its summary once it ended."""
    settings = turn.settings
    now = turn.now()
    policy = settings.surge_policy(state.spoke)
    spoke = settings.spoke(state.spoke).name if settings.has_spoke(state.spoke) else state.spoke
    started = state.started_at or now
    ended = not state.surging
    waiting = open_count if open_count is not None else sum(c.open_count for c in clusters)
    badges = [Badge("Ended", Tone.GOOD) if ended else Badge("Surge", Tone.ATTENTION)]
    if open_count is not None:
        # Known from the first refresh on; the first post only announces the surge.
        badges.append(Badge(f"{waiting:,} open", Tone.WARNING if waiting else Tone.GOOD))
    blocks = [
        TextBlock(
            turn.render(
                "surge/stats.txt",
                total=state.total,
                in_window=in_window,
                window=policy.window,
                reach=policy.reach,
                ended=ended,
            )
        )
    ]
    if spark:
        blocks.append(
            TextBlock(
                turn.render("surge/spark.txt", minutes=len(spark), spark=sparkline(list(spark)))
            )
        )
    if ended:
        blocks.append(
            TextBlock(
                turn.render(
                    "surge/summary.txt",
                    spoke=spoke,
                    lasted=(state.ended_at or now) - started,
                    total=state.total,
                    peak=state.peak,
                    window=policy.window,
                    open=waiting,
                ),
                tone=Tone.GOOD,
            )
        )
    blocks.append(TextBlock(turn.render("surge/clusters.txt", clusters=bool(clusters))))
    buttons: list[Button] = []
    if len(clusters) > SHOWN:
        buttons.append(Button("Show 10 more", "surge.more", f"{state.id}|{SHOWN}"))
    buttons.append(
        Button(
            "Open in /triage",
            "triage.queue",
            f"{state.spoke}|0",
            ButtonStyle.DEFAULT if buttons else ButtonStyle.PRIMARY,
        )
    )
    return Card(
        title=turn.render("surge/title.txt", spoke=spoke, ended=ended),
        badges=tuple(badges),
        blocks=tuple(blocks),
        rows=cluster_rows(turn, state, clusters[:SHOWN], claims),
        buttons=tuple(buttons),
        details=(
            Field("Surge", state.card_key),
            Field("Starts above", turn.render("surge/threshold.txt", policy=policy)),
            Field("Started", started.strftime("%Y-%m-%d %H:%M UTC")),
        ),
        context=turn.render("surge/context.txt", spoke=spoke, every=policy.update_every),
        at=started,
        card_key=state.card_key,
    )


def more_card(
    turn: Turn,
    state: SurgeState,
    clusters: Sequence[Cluster],
    claims: Mapping[str, ClusterClaim],
    start: int,
) -> Card:
    """The next :data:`PAGE` groups, privately, each with its own Claim cluster."""
    spoke = turn.settings.spoke(state.spoke).name
    page = clusters[start : start + PAGE]
    buttons: tuple[Button, ...] = ()
    if start + PAGE < len(clusters):
        buttons = (Button("Show 10 more", "surge.more", f"{state.id}|{start + PAGE}"),)
    return Card(
        title=turn.render("surge/more_title.txt", spoke=spoke),
        rows=cluster_rows(turn, state, page, claims),
        buttons=buttons,
        context=turn.render(
            "surge/more_context.txt", first=start + 1, last=start + len(page), total=len(clusters)
        ),
    )
