"""What a bulk command does on Ctrl-C: say how far it got and how to go on, nothing more."""

from __future__ import annotations

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
