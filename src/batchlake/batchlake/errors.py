"""Errors a user can cause. The CLI prints them as one line and exits non-zero, never a traceback.

`UserError` lives in batchlake_core so that the packages shipped to AWS raise the same type.
"""

from batchlake_core.errors import UserError

__all__ = ["UserError"]
