"""Where ``serve`` listens: the port from the flag or the environment, and the
socket bound before the app starts, so a bad or busy port is a clear sentence."""

from __future__ import annotations

import errno
import socket


class ListenError(Exception):
    """The port or host cannot be used; the message says why, for a person."""


def parse_port(flag: str | None, env: str | None) -> int:
    """``--port``, else ``PLAYCALLER_PORT``, else 3978. 0 means any free port."""
    if flag is not None:
        raw, name = flag, "--port"
    elif env is not None and env.strip():
        raw, name = env, "PLAYCALLER_PORT"
    else:
        return 3978
    text = raw.strip()
    if not text.lstrip("-").isdigit():
        raise ListenError(f"{name} must be a number from 0 to 65535, not {raw!r}")
    port = int(text)
    if not 0 <= port <= 65535:
        raise ListenError(f"{name} {port} is out of range: use 1 to 65535, or 0 for any free port")
    return port


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (port 0: one the system picks)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise ListenError(f"cannot listen on host {host!r}: {error.strerror}") from error
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise ListenError(
                f"port {port} on {host} is already in use by another program; "
                "stop it or choose another port with --port (0: any free port)"
            ) from error
        if error.errno == errno.EACCES:
            raise ListenError(
                f"no permission to listen on port {port} (ports below 1024 need privileges)"
            ) from error
        raise ListenError(f"cannot listen on {host}:{port}: {error.strerror}") from error
    # Listening at once: a request arriving during start-up waits in the backlog
    # until the app accepts it, instead of being refused.
    sock.listen(128)
    return sock


def bound_port(sock: socket.socket) -> int:
    """The port a bound socket got."""
    return int(sock.getsockname()[1])
