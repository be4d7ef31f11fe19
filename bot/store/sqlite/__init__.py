"""SQLite backend for the :class:`~bot.core.storage.Store` port.

One aiosqlite connection per store object, in WAL mode with a busy timeout.
Every store call is one synchronous function (a "job") that runs on
aiosqlite's connection thread (:func:`_on_connection_thread`): a write is
``BEGIN IMMEDIATE``, the compare-and-set read, the fencing-token check, the
record and tag writes, every effect and ``COMMIT``, all in that one function.
``BEGIN IMMEDIATE`` takes SQLite's write lock up front, so a read-check-write
(compare-and-set, fencing-token checks, leasing) is atomic against other
connections and other processes sharing the file. Within one process an
:class:`asyncio.Lock` serializes use of the connection (and its thread runs
one function at a time), so one task never sees another task's open
transaction.

Hand-offs: a call alone costs one hand-off to the thread however many
statements it runs. Calls made while the connection is busy queue up, and the
next one to get the lock takes all queued jobs to the thread in one hand-off,
writes first (in arrival order), then reads. The writes of one hand-off
commit together (group commit): one ``BEGIN IMMEDIATE`` ... ``COMMIT``, each
write in its own savepoint, so each is still all or nothing on its own (a
lost compare-and-set or a failing write leaves the others alone) and each
caller gets its own result or exception, only after the commit (see
:meth:`~bot.store.sqlite.base.SqliteBase._run` and
:func:`~bot.store.sqlite.runner.run_group`).

Durability: ``synchronous = NORMAL`` (in WAL mode). A commit appends to the
WAL without an fsync; the WAL is synced when it is checkpointed. Committed
transactions survive a crash or kill of the application; a power loss or an
operating-system crash may lose the most recent commits (the file is never
corrupted). The default, ``FULL``, fsynced the WAL on every commit.

Cancellation: a call cancelled while it waits for the lock never runs. Once
its job has gone to the connection thread it runs to completion there (a
write may commit) and the caller only misses the outcome; a write is all or
nothing either way.

``replace`` first reads the stored version without the write lock; when it
already differs from ``expected_version``, the call is refused with that
record at once (it was the current record at that moment), without waiting
for the write lock. Otherwise everything is checked again in the transaction.

Interpretations of the contract (shared with the Redis backend):

* ``replace`` on an absent record treats its version as 0: with
  ``expected_version=0`` it creates the record, like ``insert``.
* Fencing tokens (``complete_timer``, ``finish_outbox``, ``retry_outbox``,
  ``finish_inbox``, ``Effects.complete_timer`` and ``Effects.complete_inbox``)
  are valid while no one else has leased the item since; a lease that expired
  but was not re-leased can still be completed. (Those calls take no ``now``,
  so "expired" cannot be judged there.)
* Effects apply in this order: complete the fenced timer and inbox entry,
  cancel timers, schedule timers, enqueue outbox items, append audit entries. So a timer
  handler may complete its timer and reschedule the same key in one write.
  Scheduling an existing key replaces it and drops its lease (a holder of the
  old token can no longer complete it). Enqueueing an existing outbox id is
  a no-op.
* ``next_timer_due`` is the earliest moment ``lease_timers`` could return a
  timer: the due time, or for a leased timer the end of its lease.
* ``put_once`` keys expire by the ``now`` passed in, never by wall clock.
* ``admit_inbox`` remembers an admitted key as the idempotency key
  ``inbox:<key>`` for ``remember_for``; an entry is leased from admission on,
  so ``lease_inbox`` only finds entries whose holder let the lease run out.
* ``audit_log`` and ``find`` return the *oldest* ``limit`` matches.

Layout: ``base`` (connection, lifecycle, job runner), ``runner`` (the
connection thread and transactions), ``schema``, ``rows`` (fencing, effects
and row decoding inside a transaction), and one part per concern:
``records``, ``timers``, ``outbox`` (with card refs and the audit log),
``inbox``, ``counts`` (named counters in the ``tallies`` table), combined in
``store``.
"""

from bot.store.sqlite.store import SqliteStore

__all__ = ["SqliteStore"]
