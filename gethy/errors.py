"""Errors an application can make (remote errors become events, not exceptions).

Built in notebook 04 (send), where the class learns to refuse the application's mistakes.
"""

from __future__ import annotations


class GethyError(Exception):
    """Base class of gethy's own exceptions."""


class SendError(GethyError):
    """The application tried to send something the stream cannot take.

    For example: data on a stream the client has reset, a second set of
    response headers, or anything after the response was ended. The connection
    is unharmed; only this call is refused.
    """
