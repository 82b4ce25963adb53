"""API shapes for users, organisations and API tokens."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.auth.models import Role
from core.auth.service import (
    DISPLAY_NAME_MAX,
    ORG_NAME_MAX,
    PASSWORD_MAX,
    PASSWORD_MIN,
    TOKEN_NAME_MAX,
    USERNAME_MAX,
    Scope,
)
from core.db import MAX_ID
from core.jsonbody import JsonBody


class _In(JsonBody):
    """Request bodies: unknown fields, NaN and infinities are refused."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class UserCreate(_In):
    """A new user. Without a password the user can only use API tokens."""

    username: str = Field(
        min_length=1, max_length=USERNAME_MAX, description="unique; no spaces or control chars"
    )
    display_name: str = Field(default="", max_length=DISPLAY_NAME_MAX)
    role: Role
    password: str | None = Field(default=None, min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)
    organisation_id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="required for contractors: their firm"
    )


class PasswordChange(_In):
    """A new password. Changing your own needs the current one; an admin sets anyone's."""

    current_password: str | None = Field(
        default=None, max_length=PASSWORD_MAX, description="required to change your own"
    )
    new_password: str = Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)


class PasswordChanged(BaseModel):
    """The password was changed."""

    sessions_ended: int = Field(description="UI sessions of the user that were signed out")


class UserOut(BaseModel):
    """A user, without any credential."""

    id: int
    username: str
    display_name: str
    role: Role
    organisation_id: int | None
    organisation_name: str | None
    active: bool
    created_at: dt.datetime


class UserList(BaseModel):
    """A page of users, in id order."""

    items: list[UserOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page")


class OrganisationCreate(_In):
    """A new organisation: a contractor firm or the owner's administration centre."""

    name: str = Field(min_length=1, max_length=ORG_NAME_MAX)
    kind: Literal["contractor", "owner"] = "contractor"
    monthly_fee: float | None = Field(
        default=None, ge=0, le=1e12, description="the fee an SLA score scales; none: not paid"
    )


class OrganisationOut(BaseModel):
    """An organisation."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: str
    monthly_fee: float | None
    active: bool
    created_at: dt.datetime


class MeOut(BaseModel):
    """The caller: who they are, their organisation and what their credentials allow."""

    user_id: int | None = Field(description="none for the environment's admin token")
    username: str
    display_name: str
    role: Role
    organisation: OrganisationOut | None
    scopes: list[Scope]


class TokenCreate(_In):
    """A new API token for the caller."""

    name: str = Field(min_length=1, max_length=TOKEN_NAME_MAX)
    scopes: list[Scope] = Field(
        default=[Scope.read, Scope.write],
        min_length=1,
        max_length=3,
        description="some of the caller's own scopes; 'admin' only for admins",
    )
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class TokenOut(BaseModel):
    """An API token's record; the token itself is never shown again after creation."""

    id: int
    user_id: int
    username: str
    name: str
    prefix: str = Field(description="the token's first characters, to recognise it")
    scopes: list[Scope]
    state: Literal["active", "revoked", "expired"]
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenCreated(TokenOut):
    """A new token, with the bearer token itself: shown this once only."""

    token: str


class TokenList(BaseModel):
    """A page of tokens, in id order."""

    items: list[TokenOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page")


class UserPatch(_In):
    """Changes to a user (admin): only the fields sent change."""

    role: Role | None = None
    display_name: str | None = Field(default=None, min_length=1, max_length=DISPLAY_NAME_MAX)
    organisation_id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="the user's firm; null for none"
    )


class OrganisationPatch(_In):
    """Changes to an organisation (admin): only the fields sent change."""

    name: str | None = Field(default=None, min_length=1, max_length=ORG_NAME_MAX)
    monthly_fee: float | None = Field(
        default=None, ge=0, le=1e12, description="null: not paid by score"
    )
    active: bool | None = Field(
        default=None, description="an inactive firm takes no new work and no new users"
    )
