"""The local SMTP server ``make run`` starts when ``COMPOUND_SMTP_HOST`` names none.

An aiosmtpd server in a thread of the supervisor, on 127.0.0.1 only, that keeps every mail
it accepts in a Maildir under the data directory (``$COMPOUND_DATA_DIR/mailbox``). Nothing
leaves the machine; the gateway's Mailbox page (services/gateway/mailbox.py) reads the
Maildir, so a demo shows the invitations, password resets and digests it "sent".
"""

from __future__ import annotations

from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox

from infra.embedded import free_port

MAILBOX_DIR = "mailbox"


class LocalMailServer:
    """An SMTP server storing what it accepts in ``maildir``.

    Parameters:
        maildir: the Maildir (created when missing).
        port: the port to listen on, on 127.0.0.1 (0: a free one).
    """

    def __init__(self, maildir: Path, port: int = 0) -> None:
        self.maildir = maildir
        maildir.parent.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port(0)
        self._controller: Controller | None = None  # its event loop is made at start

    def start(self) -> LocalMailServer:
        """Listen (returns once the server answers)."""
        self._controller = Controller(Mailbox(self.maildir), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller.loop.close()
            self._controller = None

    def environment(self) -> dict[str, str]:
        """The settings that point Compound's processes at this server and its Maildir."""
        return {
            "COMPOUND_SMTP_HOST": "127.0.0.1",
            "COMPOUND_SMTP_PORT": str(self.port),
            "COMPOUND_SMTP_STARTTLS": "0",
            "COMPOUND_DEMO_MAILBOX": str(self.maildir),
        }
