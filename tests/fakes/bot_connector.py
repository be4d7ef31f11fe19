"""A local fake of the Bot Connector REST API (the Teams side), for tests.

``FakeConnector`` is an aiohttp server on 127.0.0.1 (random port). Point inbound
activities' ``serviceUrl`` at ``fake.service_url`` (see ``teams_activities``) and
botbuilder's ``ConnectorClient`` (CloudAdapter) talks to it unchanged.

Paths, models and status codes follow the Connector swagger
(``tests/schemas/botframework/ConnectorAPI.json``, botbuilder-python
``swagger/ConnectorAPI.json``) plus the Teams extensions botbuilder calls:

=========================================================  ==============  ==========
``POST   v3/conversations``                                create          201 ConversationResourceResponse
``POST   v3/conversations/{cid}/activities``               send            201 ResourceResponse
``POST   v3/conversations/{cid}/activities/{aid}``         reply           201 ResourceResponse
``PUT    v3/conversations/{cid}/activities/{aid}``         update          200 ResourceResponse / 404
``DELETE v3/conversations/{cid}/activities/{aid}``         delete          200 / 404
``GET    v3/conversations/{cid}/members``                  members         200 [TeamsChannelAccount]
``GET    v3/conversations/{cid}/members/{mid}``            member          200 / 404
``GET    v3/conversations/{cid}/pagedmembers``             pagedmembers    200 PagedMembersResult
``GET    v3/teams/{teamId}/conversations``                 team_channels   200 ConversationList / 404
``GET    v3/teams/{teamId}``                               team_details    200 TeamDetails / 404
=========================================================  ==============  ==========

Anything else is answered 404 and recorded with operation ``"unknown"``.

Error bodies are ``ErrorResponse`` (``{"error": {"code", "message"}}``) with the
codes Teams documents in msteams-docs ``bots/how-to/conversations/
conversation-messages.md#status-codes-from-bot-conversational-apis``.

Conversation ids are accepted whatever they are (Teams knows conversations the
fake never saw). A channel's activities are keyed by the channel id without the
``;messageid=`` thread suffix, so an activity posted to ``19:c@thread.tacv2``
can be updated through ``19:c@thread.tacv2;messageid=...`` and vice versa.

Fault injection: ``throttle`` (429 + ``Retry-After``, or 412/502/504),
``block_writes`` (403 for a user who blocked or uninstalled the bot) and
``delay`` (an operation answers late).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from .teams_activities import TENANT_ID, personal_conversation_id, thread_conversation_id

Operation = Literal[
    "create",
    "send",
    "reply",
    "update",
    "delete",
    "members",
    "member",
    "pagedmembers",
    "team_channels",
    "team_details",
    "unknown",
]
WRITES: frozenset[str] = frozenset({"create", "send", "reply", "update", "delete"})
THROTTLED_BY_DEFAULT: tuple[str, ...] = ("create", "send", "reply", "update")
BASE_ACTIVITY_ID = 1767225600000
"""Activity ids count up from 2026-01-01T00:00:00Z in milliseconds, like Teams' ids."""
MIN_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500

BlockStyle = Literal["conversation_blocked", "message_writes_blocked", "bot_not_in_conversation"]

# Error codes and messages Teams documents per status (msteams-docs
# conversation-messages.md, "Status codes from bot conversational APIs"). The 504
# row there has no code; "GatewayTimeout" is this fake's choice.
_FAULTS: dict[int, tuple[str, str]] = {
    412: ("PreconditionFailed", "Precondition failed, please try again."),
    429: ("Throttled", "Too many requests."),
    500: ("ServiceError", "Internal server error."),
    502: ("ServiceError", "Service dependency issue."),
    503: ("ServiceUnavailable", "Service is unavailable."),
    504: ("GatewayTimeout", "Gateway timeout."),
}


@dataclass(frozen=True)
class ConnectorCall:
    """One request the fake received.

    ``path`` is the decoded URL path (service URL prefix included); ``conversation_id``
    and ``activity_id`` are the decoded path parameters (``activity_id`` is the
    *target* of reply/update/delete; the id the fake minted is in ``response``).
    ``body`` is the JSON-decoded request body (None when empty, the raw text when not
    JSON); ``headers`` keys are lower-cased; ``response`` is the decoded answer body.
    """

    http_method: str
    path: str
    operation: str
    conversation_id: str | None
    activity_id: str | None
    body: Any
    headers: dict[str, str]
    status: int
    query: dict[str, str] = field(default_factory=dict)
    response: Any = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass(frozen=True)
class CreatedConversation:
    """A successful CreateConversation: the conversation id returned, the id of the
    initial activity (when ``parameters`` carried one) and the request body."""

    id: str
    activity_id: str | None
    parameters: dict[str, Any]


@dataclass
class _Fault:
    status: int
    retry_after: int | None
    operations: frozenset[str]
    remaining: int


@dataclass
class _Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class _Refused(Exception):
    def __init__(self, answer: _Answer) -> None:
        super().__init__(answer.status)
        self.answer = answer


def error_body(code: str, message: str) -> dict[str, Any]:
    """An ``ErrorResponse`` body."""
    return {"error": {"code": code, "message": message}}


def _refuse(status: int, code: str, message: str) -> _Refused:
    return _Refused(_Answer(status, error_body(code, message)))


def _blocked_body(style: BlockStyle) -> dict[str, Any]:
    """The 403 body for a conversation whose user blocked or uninstalled the bot.

    Two documented shapes (no source shows both in one body, so neither does this):

    * ``conversation_blocked`` -- the Connector's ErrorResponse, code
      ``ConversationBlockedByUser`` / "User blocked the conversation with the bot."
      (msteams-docs ``bots/how-to/conversations/conversation-messages.md``, status
      code table). botbuilder deserializes it into ``ErrorResponseException.error``.
    * ``message_writes_blocked`` -- the raw Teams body where ``subCode:
      MessageWritesBlocked`` appears: top-level ``errorCode: 209`` and a ``message``
      that is itself a JSON document (CRLF line breaks) carrying ``subCode`` and
      ``details`` (msteams-docs ``bots/how-to/conversations/send-proactive-messages.md``,
      "Understand who blocked, muted, or uninstalled a bot", example captured
      2022-03-29 from ``msgapi``). It is not an ErrorResponse: botbuilder's
      exception then has no ``error.error`` and only ``response.text`` shows it.
      (Developers report real 403s often lack the subCode: learn.microsoft.com Q&A
      1513369, so bots must treat ``ConversationBlockedByUser`` the same way.)
    """
    if style == "conversation_blocked":
        return error_body(
            "ConversationBlockedByUser", "User blocked the conversation with the bot."
        )
    if style == "bot_not_in_conversation":
        # A channel of a team the bot was not added to (same status code table).
        return error_body(
            "BotNotInConversationRoster", "The bot is not part of the conversation roster."
        )
    inner = {
        "subCode": "MessageWritesBlocked",
        "details": "Thread is blocked from message writes.",
        "errorCode": None,
        "errorSubCode": None,
    }
    return {"errorCode": 209, "message": json.dumps(inner, indent=2).replace("\n", "\r\n")}


def _field(body: dict[str, Any], name: str) -> Any:
    """``body[name]`` matched case-insensitively, as the Connector's JSON binding does:
    botbuilder-python serializes ``ConversationParameters.tenant_id`` as ``tenantID``."""
    for key, value in body.items():
        if key.lower() == name.lower():
            return value
    return None


def base_conversation_id(conversation_id: str) -> str:
    """The conversation id without a channel thread's ``;messageid=...`` suffix."""
    return conversation_id.split(";", 1)[0]


class FakeConnector:
    """A fake Bot Connector (Teams) REST API on 127.0.0.1.

    ``path_prefix`` puts the API under a path, as real service URLs do
    (``https://smba.trafficmanager.net/amer/<tenant id>/``): with ``"amer/t1"`` the
    service URL is ``http://127.0.0.1:PORT/amer/t1/``. With ``require_token`` a
    request without ``Authorization: Bearer ...`` gets 401 (botbuilder in anonymous
    mode sends none, so the default is False).
    """

    def __init__(
        self,
        *,
        path_prefix: str = "",
        require_token: bool = False,
        min_page_size: int = MIN_PAGE_SIZE,
    ) -> None:
        self.path_prefix = path_prefix.strip("/")
        self.require_token = require_token
        self.min_page_size = min_page_size

        self.calls: list[ConnectorCall] = []
        self.members: dict[str, dict[str, Any]] = {}
        """User id -> TeamsChannelAccount JSON, shared by every conversation."""
        self.teams: dict[str, dict[str, Any]] = {}
        """Team id -> TeamDetails JSON plus ``channels`` (ChannelInfo list)."""
        self.conversations: list[CreatedConversation] = []

        self._activities: dict[tuple[str, str], dict[str, Any]] = {}
        self._sent: list[tuple[str, dict[str, Any]]] = []
        self._updated: list[tuple[str, dict[str, Any]]] = []
        self._deleted: list[tuple[str, str]] = []
        self._blocked: dict[str, BlockStyle] = {}
        self._faults: list[_Fault] = []
        self._delays: dict[str, float] = {}
        self._next_activity = BASE_ACTIVITY_ID
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start listening on 127.0.0.1 on a free port."""
        if self._runner is not None:
            raise RuntimeError("FakeConnector already started")
        app = web.Application()
        base = f"/{self.path_prefix}/v3" if self.path_prefix else "/v3"
        conversation = base + "/conversations/{conversationId}"
        activity = conversation + "/activities/{activityId}"
        routes: list[tuple[str, str, Operation]] = [
            ("POST", base + "/conversations", "create"),
            ("POST", conversation + "/activities", "send"),
            ("POST", activity, "reply"),
            ("PUT", activity, "update"),
            ("DELETE", activity, "delete"),
            ("GET", conversation + "/members", "members"),
            ("GET", conversation + "/members/{memberId}", "member"),
            ("GET", conversation + "/pagedmembers", "pagedmembers"),
            ("GET", base + "/teams/{teamId}/conversations", "team_channels"),
            ("GET", base + "/teams/{teamId}", "team_details"),
        ]
        for method, path, operation in routes:
            app.router.add_route(method, path, self._handler(operation))
        app.router.add_route("*", "/{tail:.*}", self._handler("unknown"))
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def close(self) -> None:
        """Stop the server. Safe to call twice."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> FakeConnector:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeConnector not started")
        return self._port

    @property
    def service_url(self) -> str:
        """The ``serviceUrl`` for activities, with a trailing slash like Teams' URLs.

        botbuilder (msrest ``format_url``) strips trailing slashes from the base and
        joins ``v3/...`` onto it, so the URL works with or without the slash."""
        prefix = f"{self.path_prefix}/" if self.path_prefix else ""
        return f"http://127.0.0.1:{self.port}/{prefix}"

    # ------------------------------------------------------------------ seeding

    def add_member(
        self,
        user_id: str,
        name: str,
        aad_object_id: str,
        email: str,
        tenant_id: str = TENANT_ID,
        *,
        given_name: str | None = None,
        surname: str | None = None,
        user_principal_name: str | None = None,
        user_role: str = "user",
    ) -> dict[str, Any]:
        """Seed a member (every conversation's roster); returns its JSON.

        A member is also a user the bot is installed for: CreateConversation with an
        unknown member answers 403 ``ForbiddenOperationException``."""
        first, _, last = name.partition(" ")
        member = {
            "id": user_id,
            "name": name,
            # Teams sends the AAD object id as "aadObjectId"; older docs show "objectId".
            "aadObjectId": aad_object_id,
            "objectId": aad_object_id,
            "givenName": given_name if given_name is not None else first,
            "surname": surname if surname is not None else last,
            "email": email,
            "userPrincipalName": user_principal_name or email.lower(),
            "tenantId": tenant_id,
            "userRole": user_role,
        }
        self.members[user_id] = member
        return member

    def add_team(
        self,
        team_id: str,
        name: str,
        *,
        aad_group_id: str = "0d4c2b1a-9e8f-4a7b-8c6d-5e4f3a2b1c0d",
        channels: Iterable[tuple[str, str]] = (),
    ) -> dict[str, Any]:
        """Seed a team for ``v3/teams/...``. Its General channel (id == team id, name
        null as Teams returns it) is listed first; ``channels`` are (id, name)."""
        team = {
            "id": team_id,
            "name": name,
            "aadGroupId": aad_group_id,
            "channels": [{"id": team_id, "name": None}]
            + [{"id": cid, "name": cname} for cid, cname in channels],
        }
        self.teams[team_id] = team
        return team

    # ------------------------------------------------------------------ faults

    def delay(self, operation: Operation, seconds: float) -> None:
        """Answer every ``operation`` call (e.g. ``member``) ``seconds`` late."""
        self._delays[operation] = seconds

    def throttle(
        self,
        times: int,
        retry_after: int | None = 1,
        status: int = 429,
        *,
        operations: Iterable[str] = THROTTLED_BY_DEFAULT,
    ) -> None:
        """The next ``times`` calls among ``operations`` (default create/send/reply/
        update) answer ``status`` with an ErrorResponse; 429 also carries
        ``Retry-After: <retry_after>`` (None leaves it out). Faults queue up in order.

        Beware botbuilder's own retries (msrest's requests session, urllib3
        ``Retry(total=3, backoff_factor=0.8)``): GET/PUT/DELETE -- never POST -- are
        retried up to 3 times on 429 *with* ``Retry-After`` (sleeping that many
        seconds; the last 429 then surfaces as ``ErrorResponseException``) and on 408
        and 500-998 except 501/505 (sleeping 0, 1.6, 3.2 s; then msrest raises
        ``ClientRequestError`` wrapping ``requests.exceptions.RetryError``, status
        only in the message). Each retry uses up one of ``times``."""
        if status not in _FAULTS:
            raise ValueError(f"no fault body for status {status}")
        if times > 0:
            self._faults.append(_Fault(status, retry_after, frozenset(operations), times))

    def block_writes(
        self, conversation_id: str, *, style: BlockStyle = "conversation_blocked"
    ) -> None:
        """Writes to the conversation (send/reply/update/delete, and CreateConversation
        resolving to it) answer 403 as for a user who blocked or uninstalled the bot,
        or (``bot_not_in_conversation``) a channel of a team the bot is not in.
        ``style`` picks the documented body (see ``_blocked_body``)."""
        self._blocked[base_conversation_id(conversation_id)] = style

    def unblock_writes(self, conversation_id: str) -> None:
        self._blocked.pop(base_conversation_id(conversation_id), None)

    def reset_faults(self) -> None:
        self._faults.clear()
        self._blocked.clear()

    # ------------------------------------------------------------------ inspection

    def calls_to(self, operation: str) -> list[ConnectorCall]:
        return [call for call in self.calls if call.operation == operation]

    def sent(self, conversation_id: str | None = None) -> list[dict[str, Any]]:
        """Activities that landed (send, reply, and CreateConversation's initial
        activity), in order, as posted plus the ``id`` the fake gave them. A channel id
        without ``;messageid=`` also matches the channel's threads."""
        return [a for cid, a in self._sent if self._matches(cid, conversation_id)]

    def updated(self, conversation_id: str | None = None) -> list[dict[str, Any]]:
        """Successful UpdateActivity bodies, in order."""
        return [a for cid, a in self._updated if self._matches(cid, conversation_id)]

    def deleted(self, conversation_id: str | None = None) -> list[str]:
        """Ids of successfully deleted activities, in order."""
        return [aid for cid, aid in self._deleted if self._matches(cid, conversation_id)]

    def activity(self, conversation_id: str, activity_id: str) -> dict[str, Any] | None:
        """The current version of a bot activity (after updates), or None if unknown
        or deleted."""
        return self._activities.get((base_conversation_id(conversation_id), activity_id))

    @staticmethod
    def _matches(stored: str, wanted: str | None) -> bool:
        if wanted is None or stored == wanted:
            return True
        return ";" not in wanted and base_conversation_id(stored) == wanted

    # ------------------------------------------------------------------ HTTP

    def _handler(self, operation: Operation) -> Any:
        async def handle(request: web.Request) -> web.StreamResponse:
            return await self._handle(request, operation)

        return handle

    async def _handle(self, request: web.Request, operation: Operation) -> web.StreamResponse:
        raw = await request.read()
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
        conversation_id = request.match_info.get("conversationId")
        activity_id = request.match_info.get("activityId")
        if operation in self._delays:
            await asyncio.sleep(self._delays[operation])
        try:
            answer = self._answer(request, operation, body, conversation_id, activity_id)
        except _Refused as refused:
            answer = refused.answer
        self.calls.append(
            ConnectorCall(
                http_method=request.method,
                path=request.path,
                operation=operation,
                conversation_id=conversation_id,
                activity_id=activity_id,
                body=body,
                headers={k.lower(): v for k, v in request.headers.items()},
                status=answer.status,
                query=dict(request.query),
                response=answer.body,
            )
        )
        if answer.body is None:
            return web.Response(status=answer.status, headers=answer.headers)
        return web.json_response(answer.body, status=answer.status, headers=answer.headers)

    def _answer(
        self,
        request: web.Request,
        operation: Operation,
        body: Any,
        conversation_id: str | None,
        activity_id: str | None,
    ) -> _Answer:
        if self.require_token and not request.headers.get("Authorization", "").startswith(
            "Bearer "
        ):
            # The Connector's ASP.NET front end answers a missing token this way.
            raise _Refused(
                _Answer(401, {"message": "Authorization has been denied for this request."})
            )
        self._apply_throttle(operation)
        if operation in WRITES and operation != "create" and conversation_id is not None:
            self._check_blocked(conversation_id)
        match operation:
            case "create":
                return self._create(body)
            case "send" | "reply":
                assert conversation_id is not None
                return self._post(conversation_id, body)
            case "update":
                assert conversation_id is not None and activity_id is not None
                return self._update(conversation_id, activity_id, body)
            case "delete":
                assert conversation_id is not None and activity_id is not None
                return self._delete(conversation_id, activity_id)
            case "members":
                return _Answer(200, list(self.members.values()))
            case "member":
                return self._member(request.match_info["memberId"])
            case "pagedmembers":
                return self._paged_members(request)
            case "team_channels":
                team = self._team(request.match_info["teamId"])
                return _Answer(200, {"conversations": team["channels"]})
            case "team_details":
                team = self._team(request.match_info["teamId"])
                return _Answer(200, {k: v for k, v in team.items() if k != "channels"})
            case _:
                raise _refuse(404, "NotFound", f"No route for {request.method} {request.path}")

    def _apply_throttle(self, operation: str) -> None:
        for fault in self._faults:
            if operation in fault.operations and fault.remaining > 0:
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                code, message = _FAULTS[fault.status]
                headers = {}
                if fault.status == 429 and fault.retry_after is not None:
                    headers["Retry-After"] = str(fault.retry_after)
                raise _Refused(_Answer(fault.status, error_body(code, message), headers))

    def _check_blocked(self, conversation_id: str) -> None:
        style = self._blocked.get(base_conversation_id(conversation_id))
        if style is not None:
            raise _Refused(_Answer(403, _blocked_body(style)))

    def _new_activity_id(self) -> str:
        self._next_activity += 1
        return str(self._next_activity)

    def _store(self, conversation_id: str, activity: Any, new_id: str | None = None) -> str:
        if not isinstance(activity, dict) or not activity.get("type"):
            raise _refuse(400, "BadArgument", "Activity type is required.")
        minted = new_id or self._new_activity_id()
        stored = {**activity, "id": minted}
        self._activities[(base_conversation_id(conversation_id), minted)] = stored
        self._sent.append((conversation_id, dict(stored)))
        return minted

    def _post(self, conversation_id: str, body: Any) -> _Answer:
        return _Answer(201, {"id": self._store(conversation_id, body)})

    def _update(self, conversation_id: str, activity_id: str, body: Any) -> _Answer:
        key = (base_conversation_id(conversation_id), activity_id)
        if key not in self._activities:
            raise _refuse(404, "ActivityNotFoundInConversation", "Conversation not found.")
        if not isinstance(body, dict) or not body.get("type"):
            raise _refuse(400, "BadArgument", "Activity type is required.")
        current = {**body, "id": activity_id}
        self._activities[key] = current
        self._updated.append((conversation_id, dict(current)))
        return _Answer(200, {"id": activity_id})

    def _delete(self, conversation_id: str, activity_id: str) -> _Answer:
        key = (base_conversation_id(conversation_id), activity_id)
        if self._activities.pop(key, None) is None:
            raise _refuse(404, "ActivityNotFoundInConversation", "Conversation not found.")
        self._deleted.append((conversation_id, activity_id))
        return _Answer(200)

    def _create(self, body: Any) -> _Answer:
        if not isinstance(body, dict):
            raise _refuse(400, "BadSyntax", "Incorrect conversation creation parameters")
        channel_data = body.get("channelData") or {}
        tenant = _field(body, "tenantId") or (channel_data.get("tenant") or {}).get("id")
        if not tenant:
            raise _refuse(400, "BadSyntax", "Incorrect conversation creation parameters")
        activity = body.get("activity")
        new_id: str | None = None
        channel = (channel_data.get("channel") or {}).get("id")
        if channel:
            # A new thread in a channel (TeamsInfo.send_message_to_teams_channel).
            if not activity:
                raise _refuse(400, "BadArgument", "An activity is required to start a thread.")
            self._check_blocked(channel)
            thread_root = self._new_activity_id()
            conversation_id = thread_conversation_id(channel, thread_root)
            new_id = self._store(conversation_id, activity, thread_root)
        else:
            if body.get("isGroup"):
                raise _refuse(400, "BadArgument", "Bots cannot create group chats.")
            members = body.get("members") or []
            if len(members) != 1:
                raise _refuse(400, "BadArgument", "A 1:1 conversation needs exactly one member.")
            member = self._find_member(str(members[0].get("id", "")))
            if member is None:
                raise _refuse(
                    403,
                    "ForbiddenOperationException",
                    "Bot is not installed in user's personal scope",
                )
            conversation_id = personal_conversation_id(member["id"])
            self._check_blocked(conversation_id)
            if activity:
                new_id = self._store(conversation_id, activity)
        self.conversations.append(CreatedConversation(conversation_id, new_id, body))
        answer: dict[str, Any] = {"id": conversation_id, "serviceUrl": self.service_url}
        if new_id is not None:
            answer["activityId"] = new_id
        return _Answer(201, answer)

    def _find_member(self, wanted: str) -> dict[str, Any] | None:
        """By 29: id, AAD object id or UPN (Teams accepts all three)."""
        if wanted in self.members:
            return self.members[wanted]
        lowered = wanted.lower()
        for member in self.members.values():
            if lowered in (member["aadObjectId"].lower(), member["userPrincipalName"].lower()):
                return member
        return None

    def _member(self, member_id: str) -> _Answer:
        member = self._find_member(member_id)
        if member is None:
            raise _refuse(
                404, "MemberNotFoundInConversation", "The member is not part of the conversation."
            )
        return _Answer(200, member)

    def _paged_members(self, request: web.Request) -> _Answer:
        size = MIN_PAGE_SIZE
        if "pageSize" in request.query:
            try:
                size = int(request.query["pageSize"])
            except ValueError:
                raise _refuse(400, "BadArgument", "pageSize must be an integer.") from None
        # Teams treats page sizes under 50 as 50 and caps them at 500
        # (msteams-docs bots/how-to/get-teams-context.md).
        size = max(self.min_page_size, min(size, MAX_PAGE_SIZE))
        start = 0
        token = request.query.get("continuationToken")
        if token:
            try:
                start = int(base64.urlsafe_b64decode(token.encode()).decode())
            except (ValueError, binascii.Error):
                raise _refuse(400, "BadArgument", "Invalid continuation token.") from None
        members = list(self.members.values())
        page: dict[str, Any] = {"members": members[start : start + size]}
        if start + size < len(members):
            page["continuationToken"] = base64.urlsafe_b64encode(
                str(start + size).encode()
            ).decode()
        return _Answer(200, page)

    def _team(self, team_id: str) -> dict[str, Any]:
        team = self.teams.get(team_id)
        if team is None:
            raise _refuse(404, "NotFound", "Team not found.")
        return team
