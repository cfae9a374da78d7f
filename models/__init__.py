"""SQLAlchemy models and the queries that read them."""
from models.tables import (  # noqa: F401
    AuditEvent, Base, Committee, Item, ItemOwner, Position, Review, Role, RoleHolder, Workspace,
)
