"""Passwords out of everything printed or logged: URLs with credentials lose their password.

``amqp://pvsim:s3cret@broker:5672/%2F`` becomes ``amqp://pvsim:***@broker:5672/%2F``, wherever it
appears in a message (a broker or database URL in an error, a list of cluster nodes).
"""

from __future__ import annotations

import logging
import re

_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<password>[^\s/]*)@")


def redact_urls(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@`` URL in it replaced by ``***``."""
    return _CREDENTIALS.sub(r"\g<scheme>\g<user>:***@", text)


class RedactingFilter(logging.Filter):
    """A logging filter that passes every record with :func:`redact_urls` applied to its message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_urls(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
