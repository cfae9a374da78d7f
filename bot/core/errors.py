"""Errors a person can act on. The app-wide error handler shows their message as it is."""


class UserError(Exception):
    """A polite, one-line explanation of why nothing was changed."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotAllowed(UserError):
    """A refusal to change something the person may not change."""


class NotVisible(NotAllowed):
    """A refusal to show something the person may not see."""


class NotFound(UserError):
    pass
