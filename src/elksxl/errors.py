"""The one exception tree of elksxl, grouped by what the caller should do.

    ElksxlError
    ├── InputError              bad input: name file/sheet/row, send nothing (.file .sheet .row)
    │   ├── ConfigError         missing credentials, invalid sender, bad settings
    │   ├── WorkbookError       missing/unreadable workbook, unknown sheet or column
    │   ├── TemplateError       template syntax, unknown placeholder
    │   ├── BalanceError        the estimate exceeds the account balance (nothing sent)
    │   └── NotACampaignError   the workbook has no campaign in the journal
    ├── JournalError            the journal cannot be opened or written: stop, send nothing
    │   └── IllegalTransitionError  a state change the journal forbids (.key .state .operation)
    ├── ApiError                46elks answered with an error (.status_code .body)
    │   ├── RejectedError       this message was refused: mark the row, go on
    │   ├── StopCampaignError   stop the whole campaign
    │   │   ├── AuthenticationError
    │   │   └── OutOfCreditsError
    │   ├── RateLimitedError    429: wait .retry_after seconds, then retry
    │   └── ServerError         5xx: outcome unknown -> reconcile (also an UnknownOutcomeError)
    ├── TransportError          no HTTP answer
    │   ├── NotReachedError     provably never reached the server: safe to retry / fail over
    │   └── ConnectionLostError timeout or drop after the request was written (UnknownOutcome)
    └── UnknownOutcomeError     the message may exist at 46elks: reconcile before any resend

The library raises these; only the CLI and the server turn them into messages and exit codes.
Messages never contain credentials.
"""

from __future__ import annotations

__all__ = [
    "ApiError",
    "AuthenticationError",
    "BalanceError",
    "ConfigError",
    "ConnectionLostError",
    "ElksxlError",
    "IllegalTransitionError",
    "InputError",
    "JournalError",
    "NotACampaignError",
    "NotReachedError",
    "OutOfCreditsError",
    "RateLimitedError",
    "RejectedError",
    "ServerError",
    "StopCampaignError",
    "TemplateError",
    "TransportError",
    "UnknownOutcomeError",
    "WorkbookError",
]


class ElksxlError(Exception):
    """Root of every error elksxl raises on purpose."""


class InputError(ElksxlError):
    """Bad input from the user. Carries where it is, so the message can point at it."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        sheet: str | None = None,
        cell: str | None = None,
        row: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.sheet = sheet
        self.cell = cell
        self.row = row

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.sheet:
            where.append(f"sheet {self.sheet!r}")
        if self.cell:
            where.append(f"cell {self.cell}")
        elif self.row is not None:
            where.append(f"row {self.row}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class ConfigError(InputError):
    """Missing credentials, an invalid sender or an unusable setting."""


class WorkbookError(InputError):
    """The workbook cannot be read or used as asked (missing, corrupt, unknown sheet or column)."""


class TemplateError(InputError):
    """The message template is invalid or uses a placeholder with no column."""


class BalanceError(InputError):
    """The estimated cost exceeds the account balance: top up, or send anyway on purpose."""


class NotACampaignError(InputError):
    """The workbook has no campaign in this journal: nothing was sent from it."""


class JournalError(ElksxlError):
    """The journal cannot be opened or written, or refused what was asked of it.

    The campaign must stop and nothing may be sent: the journal is what proves a message was
    not sent before, and a send it cannot record could be repeated by the next run. Not a
    per-row failure; fix the cause the message names (disk, permissions, another elksxl
    version) and run again.
    """


class IllegalTransitionError(JournalError):
    """A ``mark_*`` call asked for a state change the journal's state machine forbids.

    Nothing changed. ``state`` is the message's state (an ``elksxl.journal.State``) when
    asked; ``operation`` the refused call.
    """

    def __init__(self, message: str, *, key: str, state: str, operation: str) -> None:
        super().__init__(message)
        self.key = key
        self.state = state
        self.operation = operation


class UnknownOutcomeError(ElksxlError):
    """The request may have been processed: reconcile against the API history before resending."""


class ApiError(ElksxlError):
    """46elks answered with a non-success status."""

    def __init__(self, message: str, *, status_code: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = body


class RejectedError(ApiError):
    """46elks refused this one message (invalid number, sender, text): mark the row and go on."""


class StopCampaignError(ApiError):
    """Nothing more can be sent until a person acts."""


class AuthenticationError(StopCampaignError):
    """The API username or password was refused."""


class OutOfCreditsError(StopCampaignError):
    """The account balance cannot pay for the message."""


class RateLimitedError(ApiError):
    """HTTP 429: the request was not processed; retry after ``retry_after`` seconds."""

    def __init__(
        self, message: str, *, status_code: int | None = 429, body: str = "", retry_after: float
    ) -> None:
        super().__init__(message, status_code=status_code, body=body)
        self.retry_after = retry_after


class ServerError(ApiError, UnknownOutcomeError):
    """HTTP 5xx: 46elks may or may not have accepted the message."""


class TransportError(ElksxlError):
    """No HTTP answer was received."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url


class NotReachedError(TransportError):
    """The request provably never reached the server (connection refused, DNS failure)."""


class ConnectionLostError(TransportError, UnknownOutcomeError):
    """The request was (or may have been) written, but no answer came (timeout, dropped)."""
