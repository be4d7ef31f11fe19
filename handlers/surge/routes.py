"""Surge mode: the surge card's refresh and end, Claim cluster, Show 10 more."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from datetime import timedelta

from bot.core.cards import Tone
from bot.core.errors import InvalidInput
from bot.core.events import Action, TimerFired
from bot.core.model import Actor, MentionState
from bot.core.permissions import Permission
from bot.core.router import Router
from bot.core.storage import AuditEntry, Effects, Timer
from bot.core.text import single_line, snippet
from bot.core.turn import ROUTINE, Turn
from handlers.surge import window
from handlers.surge.admission import MAX_CAS_ATTEMPTS, REFRESH, load_state, refresh_timer
from handlers.surge.cards import more_card, parse_cluster_value, surge_card
from handlers.surge.clusters import Cluster, member_keys
from handlers.surge.members import groups
from handlers.surge.records import (
    CLAIM_KIND,
    ClusterClaim,
    SurgeState,
    claim_from_record,
    claim_to_record,
    to_record,
)
from handlers.triage import rules
from handlers.triage.records import KIND as MENTION
from handlers.triage.records import from_record
from handlers.triage.records import to_record as mention_record

log = logging.getLogger(__name__)
router = Router("surge")

# Groups whose members are remembered for Claim cluster (the card and ten pages).
REMEMBERED = 55
CLAIM_APPLY = "surge.claim"
# The claim is applied in the click; the timer finishes it if the process dies.
CLAIM_BACKSTOP = timedelta(seconds=30)


async def claims_of(turn: Turn, state: SurgeState) -> dict[str, ClusterClaim]:
    found = await turn.store.find(CLAIM_KIND, f"surge:{state.id}", limit=1000)
    claims = [claim_from_record(r) for r in found]
    return {c.cluster_id: c for c in claims}


@router.timer(REFRESH)
async def on_refresh(turn: Turn, timer: TimerFired) -> None:
    """Update the surge card (at most every ``update_every``); end the surge
    once the rate stayed at or under the threshold for ``calm_after``."""
    spoke = str(timer.payload.get("spoke", ""))
    for _ in range(MAX_CAS_ATTEMPTS):
        state = await load_state(turn, spoke)
        if state is None or not state.surging or state.number != timer.payload.get("number"):
            return
        now = turn.now()
        policy = turn.settings.surge_policy(spoke)
        counts = await turn.store.counts(window.arrivals_prefix(spoke))
        by_bucket = window.buckets(counts, spoke)
        stale = window.expired(by_bucket, spoke, now)
        if stale:
            await turn.store.drop_counts(stale)
        in_window = window.in_window(by_bucket, now, policy.window)
        total_name = window.total_counter(state.id)
        total = (await turn.store.counts(total_name)).get(total_name, 0)
        clusters, open_count = await groups(turn, state)
        claims = await claims_of(turn, state)
        if await follow_claims(turn, clusters, claims):
            clusters, open_count = await groups(turn, state)
        busy_at = now if in_window > policy.threshold else state.busy_at or now
        ending = now - busy_at >= policy.calm_after
        upcoming = state.evolve(
            busy_at=busy_at,
            total=total,
            peak=max(state.peak, in_window),
            clusters=member_keys(clusters[:REMEMBERED]),
            surging=not ending,
            ended_at=now if ending else None,
            version=state.version + 1,
        )
        card = surge_card(
            turn,
            upcoming,
            clusters=clusters,
            claims=claims,
            in_window=in_window,
            spark=window.per_minute(by_bucket, now),
            open_count=open_count,
        )
        fingerprint = hashlib.sha256(
            json.dumps(card.to_json(), sort_keys=True, default=str).encode()
        ).hexdigest()[:16]
        upcoming = upcoming.evolve(shown=fingerprint)
        if fingerprint != state.shown:
            turn.update(card, priority=ROUTINE)
        if ending:
            turn.audit(
                "surge.end",
                state.card_key,
                spoke=spoke,
                total=total,
                peak=upcoming.peak,
                open=open_count,
                lasted_seconds=int((now - (state.started_at or now)).total_seconds()),
            )
        else:
            turn.schedule(refresh_timer(upcoming, now + policy.update_every))
        written = await turn.replace(to_record(upcoming), state.version)
        if written.ok:
            return
    log.warning("surge record of %s kept changing; the next refresh will try again", spoke)


async def follow_claims(
    turn: Turn, clusters: list[Cluster], claims: dict[str, ClusterClaim]
) -> bool:
    """Mentions that joined a claimed group since its claim go to the claimer
    too (the claimer owns the group, not a snapshot of it). True if any did."""
    followed = False
    for group in clusters:
        claim = claims.get(group.id)
        if claim is None:
            continue
        taken = set(claim.members)
        joined = tuple(m.key for m in group.members if m.open and m.key not in taken)
        if not joined:
            continue
        # Remembered first, so a member the claimer later releases stays released.
        grown = dataclasses.replace(claim, members=claim.members + joined)
        entry = AuditEntry(
            at=turn.now(),
            actor=claim.owner,
            action="surge.cluster.follow",
            subject=f"surge:{claim.surge_id}",
            detail={"cluster": claim.cluster_id, "members": len(joined)},
        )
        written = await turn.store.replace(
            claim_to_record(grown), claim.version, Effects(audit=(entry,))
        )
        if written.ok:
            owner = Actor(person_id=claim.owner, name=claim.owner_name)
            await apply_claim(turn, dataclasses.replace(claim, members=joined), owner)
            followed = True
    return followed


@router.action("surge.claim", permission=Permission.TRIAGE, doing="claim clusters")
async def on_claim_cluster(turn: Turn, action: Action) -> None:
    surge_id, cluster_id = parse_cluster_value(action.value)
    spoke = surge_id.rpartition(":")[0]
    state = await load_state(turn, spoke)
    if state is None or state.id != surge_id or not state.surging:
        await turn.say(turn.render("surge/refusal.txt", reason="ended"), tone=Tone.ATTENTION)
        return
    keys = state.clusters.get(cluster_id)
    if not keys:
        await turn.say(turn.render("surge/refusal.txt", reason="gone"), tone=Tone.ATTENTION)
        return
    claim = ClusterClaim(
        surge_id=surge_id,
        cluster_id=cluster_id,
        owner=turn.actor.person_id,
        owner_name=turn.actor.name,
        at=turn.now(),
        members=tuple(keys),
    )
    backstop = f"{CLAIM_APPLY}:{claim.key}"
    turn.schedule(
        Timer(
            backstop,
            CLAIM_APPLY,
            turn.now() + CLAIM_BACKSTOP,
            {"claim": claim.key},
        )
    )
    turn.audit("surge.cluster.claim", state.card_key, cluster=cluster_id, members=len(keys))
    written = await turn.insert(claim_to_record(claim))
    if not written.ok:
        assert written.record is not None
        winner = claim_from_record(written.record)
        await turn.say(
            turn.render("surge/refusal.txt", reason="taken", owner=winner.owner_name),
            tone=Tone.ATTENTION,
        )
        return
    claimed, taken, example = await apply_claim(turn, claim, turn.actor)
    turn.cancel(backstop)
    await turn.flush()
    await turn.say(
        turn.render(
            "surge/claimed.txt", claimed=claimed, taken=taken, example=snippet(example, 80)
        ),
        tone=Tone.GOOD,
    )


@router.timer(CLAIM_APPLY)
async def on_claim_backstop(turn: Turn, timer: TimerFired) -> None:
    """Finish a cluster claim whose click died half way (idempotent)."""
    key = str(timer.payload.get("claim", ""))
    record = await turn.store.get(CLAIM_KIND, key)
    if record is None:
        return
    claim = claim_from_record(record)
    owner = Actor(person_id=claim.owner, name=claim.owner_name)
    await apply_claim(turn, claim, owner)


async def apply_claim(turn: Turn, claim: ClusterClaim, owner: Actor) -> tuple[int, int, str]:
    """Claim each open member for the owner, each with compare-and-set and an
    audit entry naming the cluster; members someone else holds (or that are
    resolved) are left alone. Returns (claimed now or before by the owner,
    left alone, an example text)."""
    claimed = taken = 0
    example = ""
    for key in claim.members:
        outcome = await _claim_one(turn, key, claim, owner)
        if outcome is None:
            continue
        mine, text = outcome
        example = example or text
        if mine:
            claimed += 1
        else:
            taken += 1
    return claimed, taken, example


async def _claim_one(
    turn: Turn, key: str, claim: ClusterClaim, owner: Actor
) -> tuple[bool, str] | None:
    for _ in range(MAX_CAS_ATTEMPTS):
        record = await turn.store.get(MENTION, key)
        if record is None:
            return None
        mention = from_record(record)
        if mention.state is MentionState.CLAIMED and mention.owner == owner.person_id:
            return True, mention.text
        verdict = rules.claim(mention, owner, claim.at)
        if isinstance(verdict, rules.Refusal):
            return False, mention.text
        entry = AuditEntry(
            at=turn.now(),
            actor=owner.person_id,
            action="mention.claim",
            subject=f"mention:{key}",
            detail={"version": mention.version + 1, "cluster": claim.key},
        )
        written = await turn.store.replace(
            mention_record(verdict), mention.version, Effects(audit=(entry,))
        )
        if written.ok:
            return True, mention.text
    return False, ""


@router.action("surge.more", permission=Permission.TRIAGE, doing="see a surge's groups")
async def on_more(turn: Turn, action: Action) -> None:
    surge_id, _, start = action.value.partition("|")
    state = await load_state(turn, surge_id.rpartition(":")[0])
    if state is None or state.id != surge_id:
        raise InvalidInput("surge", f"unknown surge {single_line(surge_id, 40)!r}")
    clusters, _ = await groups(turn, state)
    offset = int(start) if start.isdigit() else 0
    await turn.reply(
        more_card(turn, state, clusters, await claims_of(turn, state), offset), ephemeral=True
    )
