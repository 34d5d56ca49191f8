"""SQLite, with one writer at a time per process queued on a Python lock.

SQLite allows one writer. When threads of one server process race for it, SQLite's busy handler
makes the losers sleep and poll with growing back-off, so under load some requests wait seconds
while others pass (we measured a p99 of 3-5 s at 8 connections). Queueing the write transactions
of one process on a lock hands the writer lock over without sleeping. Other processes (the task
worker) still meet SQLite's busy timeout as before. If the lock cannot be had within the busy
timeout (a test holding a transaction open across threads, say) we fall back to SQLite's own waiting.
"""

import functools
import threading

from django.db.backends.sqlite3 import base

_locks: dict = {}
_guard = threading.Lock()
WAIT_SECONDS = 20.0


def _lock_for(name: str):
    with _guard:
        return _locks.setdefault(str(name), threading.Lock())


@functools.lru_cache(maxsize=512)
def _qmark(query: str) -> str:
    return base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")


class SQLiteCursorWrapper(base.SQLiteCursorWrapper):
    """Django rewrites every statement's %s placeholders to ? with a regular expression on each
    call; the same few statements run all the time, so the rewrite is remembered."""

    def convert_query(self, query, *, param_names=None):
        if param_names is None and len(query) <= 4096:  # long ones are mostly one-off bulk writes
            return _qmark(query)
        return super().convert_query(query, param_names=param_names)


class DatabaseWrapper(base.DatabaseWrapper):
    _held = None  # the process lock this connection holds while its transaction is open

    def create_cursor(self, name=None):
        return self.connection.cursor(factory=SQLiteCursorWrapper)

    def _start_transaction_under_autocommit(self):
        lock = _lock_for(self.settings_dict["NAME"])
        if lock.acquire(timeout=WAIT_SECONDS):
            self._held = lock
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_writer()
            raise

    def _release_writer(self):
        held, self._held = self._held, None
        if held is not None:
            held.release()

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._release_writer()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._release_writer()

    def close(self):
        try:
            return super().close()
        finally:
            self._release_writer()
