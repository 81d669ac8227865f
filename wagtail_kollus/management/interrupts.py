"""What a bulk command does on Ctrl-C: say how far it got and how to go on, nothing more."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import CommandError

# The shell's status for a process ended by SIGINT (128 + 2): a script running the command
# tells an interrupt from a failure (1), as it would had Python died of the signal.
INTERRUPTED_STATUS = 130


def interrupted(message: str) -> CommandError:
    """The error a bulk command raises (``from None``) on ``KeyboardInterrupt``.

    Django's ``run_from_argv`` prints a ``CommandError`` as one line and exits with its
    ``returncode``: the resume hint is the last thing on the screen, not buried under the
    interrupt's traceback; ``call_command()`` callers still get an exception.
    """
    return CommandError(message, returncode=INTERRUPTED_STATUS)


class CountedCommit:
    """Ctrl-C lands before a batch's commit or after it has been counted, never in between.

    A bulk command commits a batch, then adds it to what it will report; a KeyboardInterrupt
    raised between the two made it say "0 of 2000 page(s) (queued: 500)", or report fewer than
    it had queued. Call :meth:`hold` inside the ``transaction.atomic()`` block once its writes
    are done, and :meth:`release` once the batch is counted (in a ``finally``): a Ctrl-C in
    between is raised at :meth:`release`. The wait for a lock (SQLite's ``BEGIN IMMEDIATE``,
    a row lock) stays interruptible: :meth:`hold` comes after it.

    Only the main thread receives signals (``call_command`` elsewhere holds nothing).
    """

    def __init__(self) -> None:
        self._previous: Any = None
        self._pressed = False

    def hold(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        self._pressed = False
        self._previous = signal.signal(signal.SIGINT, self._note)

    def release(self) -> None:
        if self._previous is None:
            return
        signal.signal(signal.SIGINT, self._previous)
        self._previous = None
        if self._pressed:
            raise KeyboardInterrupt

    def _note(self, signum: int, frame: Any) -> None:
        self._pressed = True
