"""Reply approvals end to end through the console, on SQLite and Redis: draft,
lint on submit, approval card, decisions, four eyes, Mark as sent, audit."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

from bot.core.accounts import ApprovalStep
from bot.core.events import Action
from bot.core.model import MentionState
from bot.platforms.console.session import ConsoleSession
from handlers.approvals.records import KIND, Draft, DraftState, from_record
from handlers.triage.records import KIND as MENTION_KIND
from handlers.triage.records import from_record as mention_from_record
from tests.conftest import START, Chat

COMPLAINT = {
    "network": "x",
    "id": "42",
    "text": "@acme charged me twice and support is useless",
    "url": "https://x.com/dana/status/42",
    "created_at": "2026-03-02T08:59:00Z",
    "author": {"handle": "dana", "followers": 900},
}
GOOD_REPLY = "Hi @dana, so sorry about the double charge. The refund is on its way."


def mention_line(**changes: object) -> str:
    return "mention " + json.dumps({**COMPLAINT, **changes})


async def drafts(chat: Chat) -> list[Draft]:
    found = []
    for state in DraftState:
        found += [from_record(r) for r in await chat.store.find(KIND, f"state:{state}")]
    return found


async def only_draft(chat: Chat) -> Draft:
    (draft,) = await drafts(chat)
    return draft


async def submitted(chat: Chat, text: str = GOOD_REPLY, who: str = "sam") -> str:
    """A claimed complaint with a submitted reply; the transcript of the submit."""
    await chat.run(mention_line(), f"as {who}", "click Claim #1", "click Draft reply #1")
    return await chat.run(f"fill text={json.dumps(text)}", "submit")


def click_as(chat: Chat, person: str, action_id: str, value: str) -> Action:
    settings = chat.runtime.settings
    return Action(
        platform="console",
        actor=settings.actor_for(settings.people[person], "console"),
        received_at=START,
        action_id=action_id,
        value=value,
    )


async def test_the_story_draft_lint_approve_send(chat: Chat) -> None:
    await chat.run(mention_line(), "as sam", "click Claim #1")
    assert "[Draft reply] [Resolve] [Open post ↗]" in chat.card(1)
    form = await chat.run("click Draft reply #1")
    assert "[form · Draft reply]" in form and "text: Text [required]" in form
    # A phone number blocks submission: the author alone sees the rule and the span.
    out = await chat.run('fill text="Hi @dana, call us on +44 20 7946 0958."', "submit")
    assert "[#2 · only sam sees this]" in out
    assert "Contains a phone number: +44 20 …" in out
    assert "@maria" not in out
    assert (await only_draft(chat)).state is DraftState.EDITING
    out = await chat.run("click Edit draft", f"fill text={json.dumps(GOOD_REPLY)}", "submit")
    assert "Submitted for approval: Coach (Maria Lopez)" in out
    assert "[#3 · @maria]" in out
    card = chat.card(3)
    assert "Reply to @dana for approval" in card
    assert "Waiting: Coach · Version 2 · 15m left" in card
    assert "> @acme charged me twice and support is useless" in card
    assert f"> {GOOD_REPLY}" in card
    assert "Changed from version 1: Hi @dana, [-call us-] {+so sorry about" in card
    assert "[Approve] [Request changes] · more: [Edit and approve] [Reject]" in card
    assert "Reply drafted by Sam, waiting for approval" in chat.card(1)

    out = await chat.run("as maria", "click Approve #3")
    assert "Approved. The author has been sent the final text." in out
    assert "Approved by Maria Lopez 09:00 · Version 2" in chat.card(3)
    assert "[Approve]" not in chat.card(3)
    assert "Reply by Sam approved by Maria, 09:00 · waiting to be sent" in chat.card(1)
    assert "[#4 · @sam]" in out and "Approved reply: post it now" in out

    out = await chat.run(
        "as sam", "click Mark as sent #4", 'fill url="https://x.com/acme/status/7"', "submit"
    )
    assert "Marked as sent." in out
    assert "Replied by Sam, approved by Maria, 09:00" in chat.card(1)
    assert "[Open post ↗] [Open reply ↗]" in chat.card(1)
    mention = mention_from_record(await chat.store.get(MENTION_KIND, "x:42"))  # type: ignore[arg-type]
    assert mention.state is MentionState.RESOLVED and mention.reply is not None
    assert mention.reply.url == "https://x.com/acme/status/7"
    draft = await only_draft(chat)
    assert draft.state is DraftState.PUBLISHED and draft.approved_by == ("maria",)
    log = await chat.store.audit_log(f"draft:{draft.id}")
    assert [(e.actor, e.action) for e in log] == [
        ("sam", "draft.linted"),
        ("sam", "draft.submitted"),
        ("maria", "draft.step_approved"),
        ("maria", "draft.approved"),
        ("sam", "draft.published"),
    ]
    # Marking twice publishes once.
    again = await chat.session.runtime.dispatcher.dispatch(
        chat.runtime.turn(click_as(chat, "sam", "approvals.sent", f"{draft.id}|2"), chat.session),
        click_as(chat, "sam", "approvals.sent", f"{draft.id}|2"),
    )
    assert again is None
    assert "Already marked as sent by Sam Okafor 09:00" in chat.session.transcript[-1]


async def test_warnings_and_a_legal_step_go_on_the_card(chat: Chat) -> None:
    out = await submitted(chat, "Hi @dana, we guarantee a refund. GLOBEX CANNOT DO THIS FOR YOU.")
    assert "Submitted for approval: Coach" in out
    card = chat.card(2)
    assert "a legal approver must approve this reply too" in card
    assert "A legal approval step was added: the draft makes a commitment." in card
    assert "Globex" in card or "GLOBEX" in card
    draft = await only_draft(chat)
    assert [s.name for s in draft.steps] == ["Coach", "Legal"]
    out = await chat.run("as maria", "click Approve #2")
    assert "it now waits for the Legal step" in out
    assert "[#3 · @lee]" in out
    # The author cannot approve at the legal step either.
    out = await chat.run("as sam")
    await chat.runtime.handle(
        click_as(chat, "sam", "approvals.approve", f"{draft.id}|1"), chat.session
    )
    assert "cannot approve or decide on it" in chat.session.transcript[-1]
    out = await chat.run("as lee", "click Approve #3")
    assert "Approved. The author has been sent the final text." in out
    assert (await only_draft(chat)).approved_by == ("maria", "lee")


async def test_nobody_approves_their_own_draft_at_any_step(chat: Chat) -> None:
    # Maria, the coach, drafts: the coach step goes straight to the backups.
    out = await submitted(chat, "Hi @dana, we guarantee a refund.", who="maria")
    draft = await only_draft(chat)
    assert draft.steps[0].backups == ("ada",)
    assert "@maria]" not in out and "[#2 · @ada]" in out
    assert "Escalated to Ada Byrne" in chat.card(2)
    for step_index in range(2):
        await chat.runtime.handle(
            click_as(chat, "maria", "approvals.approve", f"{draft.id}|1"), chat.session
        )
        assert "cannot approve or decide on it" in chat.session.transcript[-1]
        assert (await only_draft(chat)).step_index == step_index
        person = "ada" if step_index == 0 else "lee"
        await chat.runtime.handle(
            click_as(chat, person, "approvals.approve", f"{draft.id}|1"), chat.session
        )
    assert (await only_draft(chat)).state is DraftState.APPROVED


async def test_edit_and_approve_needs_someone_else(chat: Chat) -> None:
    await submitted(chat)
    out = await chat.run("as maria", "click Edit and approve #2")
    assert "(default Hi @dana, so sorry" in out
    out = await chat.run(
        'fill text="Hi @dana, we are so sorry about the double charge. The refund is on its way."',
        "submit",
    )
    assert "so someone else must approve it: Ada Byrne" in out
    card = chat.card(2)
    assert "Version 2" in card and "Reply by Maria Lopez, version 2:" in card
    assert "Changed from version 1: Hi @dana, {+we are+} so sorry" in card
    assert "Maria Lopez edited your draft and approved it" in out
    out = await chat.run("click Approve #2")
    assert "cannot approve or decide on it" in out
    draft = await only_draft(chat)
    assert draft.state is DraftState.PENDING and draft.writers == {"sam", "maria"}
    out = await chat.run("as ada", "click Approve")
    assert "Approved." in out
    assert (await only_draft(chat)).approved_by == ("ada",)


async def test_request_changes_then_a_new_version(chat: Chat) -> None:
    await submitted(chat)
    out = await chat.run("as maria", "click Request changes #2", 'fill note="Add the order date"')
    out = await chat.run("submit")
    assert "Sent your note to Sam Okafor." in out
    assert "Changes requested by Maria Lopez 09:00" in chat.card(2)
    assert "Maria Lopez asked for changes: Add the order date" in out
    out = await chat.run(
        "as sam", "click Edit draft", f"fill text={json.dumps(GOOD_REPLY + ' (2 March)')}", "submit"
    )
    assert "Submitted for approval" in out
    assert "Waiting: Coach · Version 2" in chat.card(2)
    assert "{+(2 March)+}" in chat.card(2)


async def test_reject_with_a_reason_and_stale_clicks_are_told_who_decided(chat: Chat) -> None:
    await submitted(chat)
    await chat.run("as maria", "click Reject #2", 'fill note="Off brand"', "submit")
    assert "Rejected by Maria Lopez 09:00" in chat.card(2)
    draft = await only_draft(chat)
    assert draft.state is DraftState.REJECTED
    await chat.runtime.handle(
        click_as(chat, "maria", "approvals.approve", f"{draft.id}|1"), chat.session
    )
    assert "Already rejected by Maria Lopez 09:00. Nothing was changed." in (
        chat.session.transcript[-1] + "\n".join(chat.session.transcript[-12:])
    )
    assert "Reply drafted by Sam" not in chat.card(1)


async def test_withdraw_before_it_is_decided(chat: Chat) -> None:
    await submitted(chat)
    draft = await only_draft(chat)
    out = await chat.run("/approvals")
    assert "- Yours for @acme on X: waiting for Coach (Maria Lopez) [Withdraw]" in out
    out = await chat.run("click Withdraw")
    assert "You withdrew the draft. Nothing will be published." in out
    assert "Withdrawn by Sam Okafor 09:00" in chat.card(2)
    assert "Reply drafted by Sam" not in chat.card(1)
    await chat.runtime.handle(
        click_as(chat, "maria", "approvals.approve", f"{draft.id}|1"), chat.session
    )
    assert "Already withdrawn by Sam Okafor 09:00. Nothing was changed." in "\n".join(
        chat.session.transcript[-3:]
    )
    assert (await only_draft(chat)).state is DraftState.WITHDRAWN


async def test_only_the_claim_holder_drafts(chat: Chat) -> None:
    await chat.run(mention_line(), "as sam", "click Claim #1")
    out = await chat.run("as alex", "click Draft reply #1")
    assert "Only Sam Okafor, who holds the claim, can draft the reply." in out


async def test_trusted_responder_sends_low_risk_replies_without_approval(chat: Chat) -> None:
    calm = mention_line(text="@acme when does the new card ship?", id="77")
    await chat.run(calm, "as sam", "click Claim #1", "click Draft reply #1")
    out = await chat.run('fill text="Hi @dana, it ships in May."', "submit")
    assert "No approval needed (rule trusted-care)" in out
    assert "@maria" not in out
    draft = await only_draft(chat)
    assert draft.state is DraftState.APPROVED and draft.no_approval_rule == "trusted-care"
    assert "No approval needed (rule trusted-care)." in out  # the send card


async def test_trainees_always_need_approval(chat: Chat) -> None:
    calm = mention_line(text="@acme when does the new card ship?", id="77")
    await chat.run(calm, "as alex", "click Claim #1", "click Draft reply #1")
    out = await chat.run('fill text="Hi @dana, it ships in May."', "submit")
    assert "Submitted for approval: Coach (Maria Lopez)" in out


async def test_concurrent_approvals_make_one_decision(chat: Chat) -> None:
    settings = chat.runtime.settings
    two = replace(settings.approvals, steps=(ApprovalStep("Coach", members=("maria", "ada")),))
    chat.session.runtime.settings = replace(settings, approvals=two)
    await submitted(chat)
    draft = await only_draft(chat)
    clicks = [
        click_as(chat, person, "approvals.approve", f"{draft.id}|1") for person in ("maria", "ada")
    ]
    await asyncio.gather(*(chat.runtime.handle(c, chat.session) for c in clicks))
    await chat.session.settle()
    decided = await only_draft(chat)
    assert decided.state is DraftState.APPROVED
    assert len([d for d in decided.history if d.what == "approved"]) == 1
    winner = decided.approved_by[0]
    loser = "ada" if winner == "maria" else "maria"
    transcript = "\n".join(chat.session.transcript)
    assert f"[only {loser} sees this] Already approved by" in transcript
    assert transcript.count("Approved reply: post it now") == 1
    log = await chat.store.audit_log(f"draft:{draft.id}")
    assert [e.actor for e in log if e.action == "draft.approved"] == [winner]
    # The loser waited for the winner's decision in this process and found its
    # card already updated to it: each approver's copy is updated once.
    assert transcript.count("[#2 · @maria (updated)]") == 1
    assert transcript.count("[#3 · @ada (updated)]") == 1


async def test_a_stale_click_from_an_earlier_decision_still_refreshes_the_card(
    chat: Chat,
) -> None:
    await submitted(chat)
    await chat.run("as maria", "click Approve #2")
    await chat.session.settle()
    updates = "\n".join(chat.session.transcript).count("[#2 · @maria (updated)]")
    draft = await only_draft(chat)
    await chat.runtime.handle(
        click_as(chat, "maria", "approvals.approve", f"{draft.id}|1"), chat.session
    )
    await chat.session.settle()
    transcript = "\n".join(chat.session.transcript)
    assert "Already approved by Maria Lopez 09:00. Nothing was changed." in transcript
    assert transcript.count("[#2 · @maria (updated)]") == updates + 1


async def test_step_deadline_reminds_then_escalates_once(chat: Chat) -> None:
    await submitted(chat)
    out = await chat.run("advance 8m")
    assert "Reminder: this draft waits for your approval (Coach); 7m left" in out
    out = await chat.run("advance 8m")
    assert "The Coach step waited too long for Maria Lopez" in out
    assert "@ada]" in out
    assert "Escalated to Ada Byrne" in chat.card(2)
    out = await chat.run("advance 30m")
    assert "@ada]" not in out.replace("(updated)", "")
    draft = await only_draft(chat)
    log = await chat.store.audit_log(f"draft:{draft.id}")
    assert [e.action for e in log].count("draft.escalated") == 1
    assert await chat.run("as ada", "click Approve")


async def test_deadline_is_never_later_than_the_sla(chat: Chat) -> None:
    urgent = mention_line(text="@acme your app leaked my data, this is a data breach", id="9")
    await chat.run(urgent, "advance 10m", "as sam")
    session: ConsoleSession = chat.session
    session.channel = "#comms"
    await chat.run("click Claim #1", "click Draft reply #1")
    await chat.run('fill text="Hi @dana, we are looking into it right now."', "submit")
    draft = await only_draft(chat)
    step = draft.steps[0]
    assert step.due_at is not None
    assert (step.due_at - START).total_seconds() == 15 * 60
