"""One error tree for the whole of Rightful; web/errors.py turns it into problem+json."""

from __future__ import annotations

from rightful.core.i18n import N_  # titles people read on error pages are translated there


class RightfulError(Exception):
    """Base of every error Rightful raises on purpose."""

    code = "rightful_error"
    status = 500
    title = N_("Something went wrong")

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, str]] | None = None,
        extensions: dict[str, object] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        # Further members of the problem document (RFC 9457 section 3.2), e.g. a line report.
        self.extensions = extensions or {}


class ConfigurationError(RightfulError):
    """Settings are missing or unsafe."""

    code = "configuration"
    title = "Configuration problem"


class InvalidInputError(RightfulError):
    """Input failed validation; `errors` names each field."""

    code = "invalid_input"
    status = 422
    title = N_("Your input needs attention")


class UnreadableBodyError(InvalidInputError):
    """A request body that cannot be read at all, e.g. JSON nested past what a parser can take."""

    code = "unreadable_body"
    status = 400
    title = N_("The request could not be read")


class NotFoundError(RightfulError):
    """Missing, or not yours to see: the two are never told apart."""

    code = "not_found"
    status = 404
    title = N_("Not found")


class NotAllowedError(RightfulError):
    """The caller is not signed in, or their credentials are wrong, expired or revoked."""

    code = "not_allowed"
    status = 401
    title = "Sign-in required"


class ForbiddenError(RightfulError):
    """The caller is known, but their role (or token's scopes) does not allow the action."""

    code = "forbidden"
    status = 403
    title = "Not allowed for your role"


class ConflictError(RightfulError):
    """The action does not fit the current state (e.g. approving a completed request)."""

    code = "conflict"
    status = 409
    title = N_("That cannot be done now")


class RateLimitedError(RightfulError):
    """Too many attempts; try later."""

    code = "rate_limited"
    status = 429
    title = N_("Too many attempts")


class VerificationError(RightfulError):
    """A code or link was wrong, used up or expired."""

    code = "verification_failed"
    status = 400
    title = N_("We could not verify that")


class InventoryError(InvalidInputError):
    """A data-map file is invalid; `errors` name file, collection and field."""

    code = "invalid_inventory"
    title = "The data map has problems"


class ConnectorError(RightfulError):
    """A data store could not be reached or queried."""

    code = "connector_failed"
    status = 502
    title = "A data store did not answer"
