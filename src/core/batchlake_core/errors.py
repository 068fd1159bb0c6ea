"""The base of every error a user can cause. The CLI prints it as one line and exits 2, never a traceback."""


class UserError(Exception):
    """Something the user can fix: the message names the problem and the fix."""

    exit_code = 2
