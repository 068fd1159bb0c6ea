"""Errors a user can cause. The CLI prints them as one line and exits non-zero, never a traceback."""


class UserError(Exception):
    """Something the user can fix: the message names the problem and the fix."""

    exit_code = 2
