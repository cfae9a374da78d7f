"""SQLAlchemy models and the queries that read them."""
from models.carry import AgendaDrop, Escalation, Watcher  # noqa: F401
from models.delivery import Lease, OutboxMessage, ProcessedEvent  # noqa: F401
from models.imports import ImportBaseline  # noqa: F401
from models.indicators import Indicator, IndicatorValue  # noqa: F401
from models.installations import Installation, OAuthState, OrgWorkspace  # noqa: F401
from models.meetings import Agency, AgencyContact, Decision, Letter, LetterRecipient, Meeting  # noqa: F401
from models.removals import RemovedWorkspace  # noqa: F401
from models.saved_state import SavedState  # noqa: F401
from models.settings import CommitteeSettings, WorkspaceAdmin, WorkspaceSettings  # noqa: F401
from models.tables import (  # noqa: F401
    AuditEvent,
    Base,
    Committee,
    Item,
    ItemOwner,
    Position,
    Review,
    Role,
    RoleHolder,
    Workspace,
)
from models.updates import UpdateRequest  # noqa: F401
