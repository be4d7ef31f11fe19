"""Redis backend for the :class:`~bot.core.storage.Store` port.

Every key starts with the hash tag ``{namespace}:`` so the whole store lives
in one cluster slot, and every multi-key operation is a single Lua script
(``EVALSHA`` through ``register_script``), which Redis runs atomically. The
scripts build some key names from ``ARGV`` (timer hashes, tag indexes, audit
subject lists); that is safe on Redis Cluster because all of them carry the
same hash tag as the declared key.

Layout (``P`` is ``{namespace}:``; ``q()`` is percent-encoding, used for every
name component except the last so components can never run together):

* ``P rec:q(kind):key`` hash: ``kind key v d t tk s`` (version, data JSON,
  tags JSON, the tag-index keys it is listed in, insert seq).
* ``P tag:q(kind):tag`` zset of record keys scored by insert seq (``find``).
* ``P once:key`` string: the expiry (epoch microseconds) of an idempotency key.
* ``P timer:key`` hash per timer; ``P timers:due`` zset by due time (for
  ``pending_timers``); ``P timers:ready`` zset by the moment the timer can be
  leased: its due time, moved to ``lease_until`` while it is leased.
* ``P ob:id`` hash per outbox item; ``P obq:platform`` zset per platform
  scored ``priority * 2**40 + seq`` (lower priority first, then FIFO);
  ``P outbox:ids`` set of all waiting ids.
* ``P card:q(platform):card_key`` list of card refs (JSON).
* ``P in:key`` hash per inbox entry (platform, body, lease, token, its queue
  name); ``P inq:q(platform)`` zset per platform scored by lease end (every
  entry is leased from admission on); ``P once:inbox:key`` marks an admitted
  key for the remembered window.
* ``P audit`` stream (append-only); ``P audit:s:subject`` list of stream ids.
* ``P seq:rec``, ``P seq:outbox``, ``P seq:token`` counters (``INCR``).
* ``P counts`` hash of named counters (``add_counts``, ``HINCRBY`` in MULTI).
* ``P intake`` stream, ``P intake:held:...`` markers and ``P intake:dead``:
  the intake stream (:mod:`bot.store.redis.stream`).

Time is always the caller's: ``put_once`` stores the expiry timestamp and the
script compares it with the ``now`` passed in, so expiry never depends on the
Redis clock. The key also gets a ``PX`` of ``ttl`` plus a minute, purely so
Redis reclaims memory; it is never shorter than the logical lifetime unless
the callers' clocks run more than a minute ahead of Redis.

Record reads (``get``) of one store object go out one batch at a time: a
read alone is sent at once; reads made while a batch is in flight queue up and
the next batch sends them in one round trip, one ``HMGET`` per record however
many callers want it (see :meth:`RedisStore._read_record`). A read cancelled
before its batch is sent is never sent.

Contract interpretations are the same as the SQLite backend's (see
:mod:`bot.store.sqlite`). Outbox sequence numbers must stay below 2**40 for
FIFO order to hold, and priorities within ``bot.store.MIN_PRIORITY`` ..
``MAX_PRIORITY``. ``pending_timers`` scans all timers and ``outbox_backlog``
all waiting items (fine for thousands; the latter is read only by ``/metrics``).

Layout of the package: ``base`` (client, lifecycle, read batcher, key names),
``scripts`` (the Lua sources), ``reads``, ``codec``, and one part per concern:
``records``, ``timers``, ``outbox`` (with card refs and the audit log),
``inbox``, ``counts``, ``stream`` (the intake stream, Redis only), combined
in ``store``.
"""

from bot.store.redis.store import RedisStore

__all__ = ["RedisStore"]
