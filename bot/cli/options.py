"""The ``playcaller`` command line's options, its ``--help`` text, and where an
option that was not given comes from (the environment, a default)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

DESCRIPTION = """\
Playcaller: social media mentions triaged in Slack and Microsoft Teams, and
answers from your social media guidelines.

Try it:    playcaller demo
Check:     playcaller check
Run it:    playcaller serve   (see "Running in production" in the README)"""

EPILOG = """\
--config may come before or after the command. Without it: $PLAYCALLER_CONFIG,
else ./playcaller.yaml, else the bundled sample. Secrets come from the
environment only (SLACK_BOT_TOKEN, MICROSOFT_APP_ID, ...; see the README).
Exit status: 0 ok, 1 a check failed (a refused line, a failed expectation),
2 bad input or configuration."""

CONFIG_HELP = "path to playcaller.yaml (default: $PLAYCALLER_CONFIG, else ./playcaller.yaml)"


def parser() -> argparse.ArgumentParser:
    """Every command and option."""
    top = argparse.ArgumentParser(
        prog="playcaller",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--config", help=CONFIG_HELP)
    # The same option after the command; SUPPRESS keeps the one given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default=argparse.SUPPRESS, help=CONFIG_HELP)
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, summary: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, parents=[common], help=summary, description=summary)

    command("check", "validate config, playbooks, guidelines and templates")
    demo = command("demo", "a terminal chat with the bot on sample data")
    demo.add_argument("--script", help="run commands from FILE and print the transcript")
    demo.add_argument("--store", help="store URL (default: a fresh SQLite file)")
    demo.add_argument("--width", type=int, default=None, help="terminal width for cards")
    ingest = command("ingest", "store mentions from a JSONL file; serve posts them")
    ingest.add_argument("file", help="one JSON mention per line (see README)")
    ingest.add_argument("--store", help="store URL (default: $PLAYCALLER_STORE_URL)")
    ingest.add_argument(
        "--source",
        help="each line is this network's payload: x, mastodon (default: the intake format)",
    )
    manifest = command("manifest", "print a platform's app manifest")
    manifest.add_argument("platform", choices=["slack"])
    # Not required here: without either, the manifest's own message asks for --url.
    mode = manifest.add_mutually_exclusive_group()
    mode.add_argument("--url", help="https URL of /slack/events (HTTP mode)")
    mode.add_argument("--socket-mode", action="store_true", help="use Socket Mode (no URL)")
    ask = command("ask", "answer a question from the guidelines")
    ask.add_argument("question", nargs="+", help="the question, or - to read one per line")
    ask.add_argument("--guidelines", help="a guideline folder (default: the configured one)")
    ask.add_argument("--json", action="store_true", help="print a JSON object per question")
    package = command("package", "build a platform's app package")
    package.add_argument("platform", choices=["teams"])
    package.add_argument(
        "--app-id", help="the bot's Microsoft App ID (required unless $MICROSOFT_APP_ID is set)"
    )
    package.add_argument(
        "--teams-app-id", help="the Teams app's own id (default: $TEAMS_APP_ID, else the App ID)"
    )
    package.add_argument("--host", help="the bot's public host name")
    package.add_argument("--version", default="1.0.0", help="app version (X.Y.Z)")
    package.add_argument("--out", default="playcaller-teams.zip", help="zip file or folder")
    serve = command("serve", "run the bot's web app")
    serve.add_argument(
        "--port", help="port, 0 for any free one (default: $PLAYCALLER_PORT or 3978)"
    )
    serve.add_argument(
        "--host",
        default=os.environ.get("PLAYCALLER_HOST", "0.0.0.0"),
        help="address to listen on (default: $PLAYCALLER_HOST or 0.0.0.0)",
    )
    serve.add_argument("--store", help="store URL (default: $PLAYCALLER_STORE_URL)")
    audit = command("audit", "read the audit log: who did what, when")
    audit.add_argument("--subject", help="one subject, e.g. mention:x:123 or spoke:care")
    audit.add_argument(
        "--since", help="only entries at or after T: an ISO time (UTC if no zone) or an age (2h)"
    )
    audit.add_argument("--json", action="store_true", help="one JSON object per line")
    audit.add_argument("--store", help="store URL (default: $PLAYCALLER_STORE_URL)")
    postmortem = command("postmortem", "print a crisis incident's post-incident summary (Markdown)")
    postmortem.add_argument("incident", help="the incident id, e.g. CR-42")
    postmortem.add_argument("--out", help="write the Markdown to FILE instead")
    postmortem.add_argument("--store", help="store URL (default: $PLAYCALLER_STORE_URL)")
    return top


def store_source(flag: str | None) -> str:
    """Who chose the store URL, for an error message that blames the right place."""
    if flag:
        return "--store"
    return "PLAYCALLER_STORE_URL" if os.environ.get("PLAYCALLER_STORE_URL") else "the default"


def index_cache(command: str) -> Path | None:
    """Long-running and repeated commands keep the guideline index on disk."""
    if command in ("serve", "ingest", "ask"):
        return Path(os.environ.get("PLAYCALLER_INDEX_DIR", ".playcaller/index"))
    return None
