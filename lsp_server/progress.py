"""$/progress for one job: begin, report from any thread, end; the client's cancel button sets an Event."""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid

from lsprotocol import types

log = logging.getLogger(__name__)


class Progress:
    """Work-done progress for one model job."""

    def __init__(self, ls, title: str, cancel: threading.Event) -> None:
        self.ls, self.title, self.cancel = ls, title, cancel
        self.token: str | None = None
        self.loop = asyncio.get_running_loop()

    async def begin(self, message: str) -> None:
        """Create the token (when the client supports it) and send begin."""
        window = self.ls.client_capabilities.window
        if not (window and window.work_done_progress):
            return
        token = f"vibethinker-{uuid.uuid4()}"
        try:
            await self.ls.work_done_progress.create_async(token)
        except Exception as exc:  # noqa: BLE001 - progress is optional
            log.warning("progress create failed: %s", exc)
            return
        self.token = token
        future = self.ls.work_done_progress.tokens.get(token)
        if future is not None:
            future.add_done_callback(lambda f: self.cancel.set() if f.cancelled() else None)
        self.ls.work_done_progress.begin(
            token,
            types.WorkDoneProgressBegin(title=self.title, message=message, cancellable=True, percentage=0),
        )

    def report(self, message: str, tokens: int = 0) -> None:
        """Report from any thread (tokens generated so far are in the message)."""
        if self.token is None or self.loop.is_closed():
            return
        value = types.WorkDoneProgressReport(message=message, cancellable=True)
        self.loop.call_soon_threadsafe(self._send_report, value)

    def _send_report(self, value: types.WorkDoneProgressReport) -> None:
        """Send a report unless the progress already ended."""
        if self.token is not None:
            self.ls.work_done_progress.report(self.token, value)

    def end(self, message: str) -> None:
        """Send end (on the loop); later reports are dropped."""
        if self.token is not None:
            token, self.token = self.token, None
            self.ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message=message))
            self.ls.work_done_progress.tokens.pop(token, None)
