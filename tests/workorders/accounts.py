"""Users and bearer tokens for work-order tests."""

from __future__ import annotations

from core.auth import service as auth
from core.auth.models import Role
from core.db import Database


def token_for(db: Database, username: str, role: Role, org: str | None = None) -> str:
    """A new user of this role (in organisation org, created if missing) and their token."""
    with db.session() as s:
        organisation = auth.get_or_create_organisation(s, org) if org else None
        user = auth.create_user(
            s, username=username, password="pw-" + username, role=role, organisation=organisation
        )
        return auth.create_token(s, user=user, name="test")
