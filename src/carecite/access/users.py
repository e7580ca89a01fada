"""The users file (DESIGN.md "Users file"): validate all of it, then upsert all of it, or nothing.

```json
[{"id": "cc-amy", "name": "Amy Lee", "role": "care_coordinator",
  "facilities": ["Organization/<id>"], "care_team_only": true, "sensitive_access": []}]
```
Omitted fields take the least-privileged value: no facilities, care-team only, no labels.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator
from sqlalchemy import Engine

from carecite.domain import SENSITIVE_LABELS, Role
from carecite.records.db import session_scope
from carecite.records.tables import User


class UsersFileError(ValueError):
    """The users file is unreadable or invalid. The message names the user index and field."""


class UserSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=500)
    role: Role
    facilities: list[str] = Field(default_factory=list)
    care_team_only: bool = True
    sensitive_access: list[str] = Field(default_factory=list)

    @field_validator("facilities")
    @classmethod
    def _organization_refs(cls, value: list[str]) -> list[str]:
        for ref in value:
            if not ref.startswith("Organization/") or len(ref) == len("Organization/"):
                raise ValueError(f"{ref!r} is not an 'Organization/<id>' reference")
        return sorted(set(value))

    @field_validator("sensitive_access")
    @classmethod
    def _known_labels(cls, value: list[str]) -> list[str]:
        unknown = [label for label in value if label not in SENSITIVE_LABELS]
        if unknown:
            raise ValueError(f"unknown label(s) {unknown}; known: {', '.join(SENSITIVE_LABELS)}")
        return sorted(set(value))


_USERS = TypeAdapter(list[UserSpec])


def _describe(error: ValidationError, raw: object) -> str:
    lines = []
    for err in error.errors()[:10]:
        loc = err["loc"]
        if loc and isinstance(loc[0], int):
            index, field = loc[0], ".".join(str(x) for x in loc[1:]) or "(entry)"
            user_id = raw[index].get("id") if isinstance(raw, list) and isinstance(raw[index], dict) else None
            who = f"user #{index}" + (f" (id {user_id!r})" if isinstance(user_id, str) else "")
            lines.append(f"{who}, field '{field}': {err['msg']}")
        else:
            lines.append(f"{'.'.join(str(x) for x in loc) or 'file'}: {err['msg']}")
    return "; ".join(lines)


def load_users_file(path: Path) -> list[UserSpec]:
    """Parse and validate the whole file; raise ``UsersFileError`` on the first problem found."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise UsersFileError(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise UsersFileError(f"{path}: cannot read: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise UsersFileError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    if not isinstance(raw, list):
        raise UsersFileError(f"{path}: expected a JSON list of users, got {type(raw).__name__}")
    try:
        users = _USERS.validate_python(raw)
    except ValidationError as exc:
        raise UsersFileError(f"{path}: {_describe(exc, raw)}") from exc
    seen: dict[str, int] = {}
    for index, user in enumerate(users):
        if user.id in seen:
            raise UsersFileError(
                f"{path}: user #{index}, field 'id': duplicate of user #{seen[user.id]} ({user.id!r})"
            )
        seen[user.id] = index
    return users


def import_users(engine: Engine, path: Path) -> int:
    """Validate ``path`` and upsert every user in one transaction. Returns how many were imported."""
    users = load_users_file(path)
    with session_scope(engine) as session:
        for spec in users:
            row = session.get(User, spec.id) or User(id=spec.id, name=spec.name, role=spec.role)
            row.name = spec.name
            row.role = spec.role
            row.facilities = json.dumps(spec.facilities)
            row.care_team_only = spec.care_team_only
            row.sensitive_access = json.dumps(spec.sensitive_access)
            session.add(row)
    return len(users)
