"""carecite.access: users, roles, AccessScope, break-the-glass and the post-retrieval guard."""

from carecite.access.guard import GuardResult, Violation, guard_candidates, security_event
from carecite.access.scope import (
    BREAK_GLASS_ROLES,
    AccessDenied,
    BreakGlassReasonInvalid,
    compute_scope,
    open_cited_source,
    patients_in_scope,
    require_role,
    resolve_patient,
)
from carecite.access.users import UsersFileError, UserSpec, import_users, load_users_file

__all__ = [
    "BREAK_GLASS_ROLES",
    "AccessDenied",
    "BreakGlassReasonInvalid",
    "GuardResult",
    "UserSpec",
    "UsersFileError",
    "Violation",
    "compute_scope",
    "guard_candidates",
    "import_users",
    "load_users_file",
    "open_cited_source",
    "patients_in_scope",
    "require_role",
    "resolve_patient",
    "security_event",
]
