"""Every console table, imported in one place so Alembic and tests see the whole schema."""
from console.audit.models import AuditCheckpoint, AuditEntry, AuditHead, AuditVerification  # noqa: F401
from console.auth.models import ApiToken, StaffUser  # noqa: F401
from console.bulk.models import Bulk, BulkItem  # noqa: F401
from console.db import ConsoleBase
from console.deflection.models import (  # noqa: F401
    EventRollup, OutcomeRollup, RootCause, Sprint, Ticket, TicketEvent, TicketRollup,
)
from console.runbooks.models import RunbookSearchMiss, RunbookTick  # noqa: F401
from console.tasks.models import IdempotencyKey, TaskRun  # noqa: F401
from console.webhooks.models import WebhookMessage  # noqa: F401

metadata = ConsoleBase.metadata
