"""The SMS interface (短信): one function, a backend chosen by settings.NOTIFICATIONS_SMS_BACKEND.

No provider is wired in yet. A provider (Aliyun SMS, Tencent Cloud SMS ...) is a class with
`send(mobile, text)` that raises on failure, named in the setting; nothing else changes.

* `notifications.sms.LoggingSMSBackend` (default): writes the masked number and the text to the log.
* `notifications.sms.MemorySMSBackend`: keeps messages in `notifications.sms.outbox` (tests).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

from accounts.personal_data import mask_mobile

logger = logging.getLogger("notifications.sms")


@dataclass(frozen=True)
class TextMessage:
    mobile: str
    text: str


outbox: list[TextMessage] = []


class LoggingSMSBackend:
    def send(self, mobile: str, text: str) -> None:
        # Masked: log files are read by more people than the personal data is meant for.
        logger.info("SMS to %s: %s", mask_mobile(mobile), text)


class MemorySMSBackend:
    def send(self, mobile: str, text: str) -> None:
        outbox.append(TextMessage(mobile, text))


def send_sms(mobile: str, text: str) -> None:
    """Send `text` to a mainland mobile number through the configured backend (raises on failure)."""
    backend = import_string(settings.NOTIFICATIONS_SMS_BACKEND)()
    backend.send(mobile, text)
