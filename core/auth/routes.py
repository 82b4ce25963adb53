"""REST routes for users, organisations and API tokens, under /api/v1.

Managing users and organisations, and seeing or revoking other people's tokens, needs an admin
with the 'admin' scope (AdminPrincipal). Everyone signed in may read /me and manage their own
tokens; a token they cannot see answers 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, status
from sqlalchemy.orm import Session

from core.auth import repository, service
from core.auth.deps import AdminPrincipal, CurrentPrincipal
from core.auth.models import ApiToken, Organisation, Role, User
from core.auth.schemas import (
    MAX_ID,
    MeOut,
    OrganisationCreate,
    OrganisationOut,
    OrganisationPatch,
    PasswordChange,
    PasswordChanged,
    TokenCreate,
    TokenCreated,
    TokenList,
    TokenOut,
    UserCreate,
    UserList,
    UserOut,
    UserPatch,
)
from core.auth.service import InvalidAccount, Principal, Scope
from core.db import CommittingRoute, SessionDep, utcnow
from core.errors import Forbidden, NotFound
from core.pagination import Cursor, id_cursor, read_id_cursor, split_page

router = APIRouter(route_class=CommittingRoute, prefix="/api/v1", tags=["auth"])
UserId = Annotated[int, Path(ge=1, le=MAX_ID, description="user id")]
TokenId = Annotated[int, Path(ge=1, le=MAX_ID, description="token id")]
Limit = Annotated[int, Query(ge=1, le=500)]


def _user_out(user: User, org_names: dict[int, str]) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=Role(user.role),
        organisation_id=user.organisation_id,
        organisation_name=org_names.get(user.organisation_id) if user.organisation_id else None,
        active=user.active,
        created_at=user.created_at,
    )


def _users_out(session: Session, users: list[User]) -> list[UserOut]:
    names = repository.organisation_names(
        session, {u.organisation_id for u in users if u.organisation_id is not None}
    )
    return [_user_out(u, names) for u in users]


def _token_out(tok: ApiToken, username: str, now: dt.datetime) -> TokenOut:
    return TokenOut(
        id=tok.id,
        user_id=tok.user_id,
        username=username,
        name=tok.name,
        prefix=tok.prefix,
        scopes=[Scope(s) for s in service.format_scopes(service.parse_scopes(tok.scopes)).split()],
        state=service.token_state(tok, now),
        created_at=tok.created_at,
        last_used_at=tok.last_used_at,
        expires_at=tok.expires_at,
        revoked_at=tok.revoked_at,
    )


def _visible_user(session: Session, user_id: int, who: Principal) -> User:
    user = repository.get_user(session, user_id) if who.is_admin or who.user_id == user_id else None
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user


def _visible_token(session: Session, token_id: int, who: Principal) -> ApiToken:
    tok = repository.get_token(session, token_id)
    if tok is None or not (who.is_admin or tok.user_id == who.user_id):
        raise NotFound(f"token {token_id} not found")
    return tok


# --- me, users -----------------------------------------------------------------------------------


@router.get("/me", response_model=MeOut)
def me(session: SessionDep, who: CurrentPrincipal) -> MeOut:
    """The caller: username, role, organisation and the scopes of these credentials."""
    user = repository.get_user(session, who.user_id) if who.user_id is not None else None
    org = (
        repository.get_organisation(session, who.organisation_id)
        if who.organisation_id is not None
        else None
    )
    return MeOut(
        user_id=who.user_id,
        username=who.username,
        display_name=user.display_name if user else who.username,
        role=who.role,
        organisation=OrganisationOut.model_validate(org) if org else None,
        scopes=[Scope(s) for s in service.format_scopes(who.scopes).split()],
    )


@router.get("/users", response_model=UserList)
def list_users(
    session: SessionDep,
    _who: AdminPrincipal,
    role: Role | None = None,
    active: bool | None = None,
    organisation_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> UserList:
    """Users in id order, filtered by role, active and organisation (admin)."""
    rows = repository.list_users(
        session,
        role=role.value if role else None,
        active=active,
        organisation_id=organisation_id,
        after_id=read_id_cursor(cursor),
        limit=limit + 1,
    )
    page, nxt = split_page(rows, limit, lambda u: id_cursor(u.id))
    return UserList(items=_users_out(session, page), next_cursor=nxt)


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, session: SessionDep, who: AdminPrincipal) -> UserOut:
    """Create a user (admin); 409 when the username is taken."""
    if body.password is not None:
        service.check_password(body.password)
    org = None
    if body.organisation_id is not None:
        org = repository.get_organisation(session, body.organisation_id)
        if org is None:
            raise InvalidAccount(f"organisation {body.organisation_id} does not exist")
    user = service.create_user(
        session,
        username=body.username,
        password=body.password,
        role=body.role,
        display_name=body.display_name,
        organisation=org,
        actor=who,
    )
    return _users_out(session, [user])[0]


@router.get("/users/{user_id}", response_model=UserOut)
def get_user(user_id: UserId, session: SessionDep, who: CurrentPrincipal) -> UserOut:
    """One user: anyone may read themselves, admins anyone; others answer 404."""
    return _users_out(session, [_visible_user(session, user_id, who)])[0]


@router.post("/users/{user_id}/disable", response_model=UserOut)
def disable_user(user_id: UserId, session: SessionDep, who: AdminPrincipal) -> UserOut:
    """Disable a user (admin): their tokens are revoked and their sessions end at once."""
    user = _visible_user(session, user_id, who)
    service.disable_user(session, user=user, actor=who)
    return _users_out(session, [user])[0]


@router.post(
    "/users/{user_id}/password",
    response_model=PasswordChanged,
    responses={403: {"description": "the current password is wrong, or not your account"}},
)
def change_password(
    user_id: UserId, body: PasswordChange, session: SessionDep, who: CurrentPrincipal
) -> PasswordChanged:
    """Change a password: your own (with the current one), or anyone's as an admin. Every UI
    session of that user ends: a saved cookie stops working with the old password."""
    user = _visible_user(session, user_id, who)
    if not (who.is_admin or who.user_id == user.id):
        raise Forbidden("only admins change other people's passwords")
    ended = service.change_password(
        session,
        user=user,
        new_password=body.new_password,
        actor=who,
        current_password=body.current_password,
    )
    return PasswordChanged(sessions_ended=ended)


_ADMIN_USER: dict[int | str, dict[str, Any]] = {
    401: {"description": "no valid credentials"},
    403: {"description": "not an admin, or a token without the 'admin' and 'write' scopes"},
    404: {"description": "no such user"},
}


@router.patch(
    "/users/{user_id}",
    response_model=UserOut,
    responses={
        200: {"description": "the user as it is now"},
        **_ADMIN_USER,
        409: {"description": "an admin changing their own role"},
        422: {
            "description": "the body does not validate, the organisation does not exist or "
            "is inactive, or a contractor without a contractor firm"
        },
    },
)
def update_user(
    user_id: UserId, body: UserPatch, session: SessionDep, who: AdminPrincipal
) -> UserOut:
    """Change a user's role, display name or firm (admin); only the fields sent change. Their
    sessions and tokens keep working, narrowed to the new role from their next request."""
    user = _visible_user(session, user_id, who)
    sent = body.model_fields_set
    org: Organisation | Literal["unchanged"] | None = service.UNCHANGED
    if "organisation_id" in sent:
        org = None
        if body.organisation_id is not None:
            org = repository.get_organisation(session, body.organisation_id)
            if org is None:
                raise InvalidAccount(f"organisation {body.organisation_id} does not exist")
    service.update_user(
        session,
        user=user,
        role=body.role if "role" in sent else None,
        display_name=body.display_name if "display_name" in sent else None,
        organisation=org,
        actor=who,
    )
    return _users_out(session, [user])[0]


@router.post(
    "/users/{user_id}/enable",
    response_model=UserOut,
    responses={200: {"description": "the user, active again"}, **_ADMIN_USER},
)
def enable_user(user_id: UserId, session: SessionDep, who: AdminPrincipal) -> UserOut:
    """Enable a disabled user again (admin); their old tokens stay revoked."""
    user = _visible_user(session, user_id, who)
    service.enable_user(session, user=user, actor=who)
    return _users_out(session, [user])[0]


@router.post(
    "/users/{user_id}/tokens",
    response_model=TokenCreated,
    status_code=status.HTTP_201_CREATED,
    responses={
        201: {"description": "the new token, with the bearer token itself shown this once"},
        **_ADMIN_USER,
        409: {"description": "the user is disabled"},
        422: {"description": "the body does not validate"},
    },
)
def create_token_for(
    user_id: UserId, body: TokenCreate, session: SessionDep, who: AdminPrincipal
) -> TokenCreated:
    """A new token for another user (admin), e.g. a contractor firm's integration: at most the
    scopes the user's role allows (403 beyond them) and the admin's own. The token is in the
    response once and never again."""
    user = _visible_user(session, user_id, who)
    wanted = {s.value for s in body.scopes}
    beyond = wanted - who.scopes
    if beyond:
        raise Forbidden(
            f"a token cannot grant scopes its creator lacks: {service.format_scopes(beyond)}"
        )
    expires = utcnow() + dt.timedelta(days=body.expires_in_days) if body.expires_in_days else None
    tok, plain = service.issue_token(
        session, user=user, name=body.name, scopes=wanted, expires_at=expires, actor=who
    )
    out = _token_out(tok, user.username, utcnow())
    return TokenCreated(**out.model_dump(), token=plain)


# --- tokens --------------------------------------------------------------------------------------


@router.get("/tokens", response_model=TokenList)
def list_tokens(
    session: SessionDep,
    who: CurrentPrincipal,
    user_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="admins only")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> TokenList:
    """The caller's tokens; an admin with the 'admin' scope sees everyone's."""
    if who.is_admin:
        owner = user_id
    else:
        if who.user_id is None:
            raise Forbidden("these credentials own no tokens")
        owner = who.user_id
        if user_id is not None and user_id != owner:
            return TokenList(items=[], next_cursor=None)
    rows = repository.list_tokens(
        session, user_id=owner, after_id=read_id_cursor(cursor), limit=limit + 1
    )
    page, nxt = split_page(rows, limit, lambda row: id_cursor(row[0].id))
    now = utcnow()
    return TokenList(items=[_token_out(t, u, now) for t, u in page], next_cursor=nxt)


@router.post("/tokens", response_model=TokenCreated, status_code=status.HTTP_201_CREATED)
def create_token(body: TokenCreate, session: SessionDep, who: CurrentPrincipal) -> TokenCreated:
    """A new token for the caller, with at most the caller's own scopes. The token is in the
    response once and never again."""
    if who.user_id is None:
        raise InvalidAccount(
            "the environment's admin token belongs to no user: use a user's credentials, or "
            "`plantroom tokens create USERNAME`"
        )
    wanted = {s.value for s in body.scopes}
    beyond = wanted - who.scopes
    if beyond:
        raise Forbidden(
            f"a token cannot grant scopes its creator lacks: {service.format_scopes(beyond)}"
        )
    user = repository.get_user(session, who.user_id)
    if user is None:
        raise NotFound(f"user {who.user_id} not found")
    expires = utcnow() + dt.timedelta(days=body.expires_in_days) if body.expires_in_days else None
    tok, plain = service.issue_token(
        session, user=user, name=body.name, scopes=wanted, expires_at=expires, actor=who
    )
    out = _token_out(tok, user.username, utcnow())
    return TokenCreated(**out.model_dump(), token=plain)


@router.post("/tokens/{token_id}/revoke", response_model=TokenOut)
def revoke_token(token_id: TokenId, session: SessionDep, who: CurrentPrincipal) -> TokenOut:
    """Revoke one of the caller's tokens (admins: anyone's); from the next request it answers
    401. Revoking a revoked token changes nothing."""
    tok = _visible_token(session, token_id, who)
    service.revoke_token(session, token=tok, actor=who)
    owner = repository.get_user(session, tok.user_id)
    return _token_out(tok, owner.username if owner else "", utcnow())


# --- organisations -------------------------------------------------------------------------------


@router.get("/organisations", response_model=list[OrganisationOut])
def list_organisations(session: SessionDep, _who: AdminPrincipal) -> list[OrganisationOut]:
    """Every organisation (admin); contractors find their own in GET /me."""
    return [OrganisationOut.model_validate(o) for o in repository.list_organisations(session)]


@router.post("/organisations", response_model=OrganisationOut, status_code=status.HTTP_201_CREATED)
def create_organisation(
    body: OrganisationCreate, session: SessionDep, who: AdminPrincipal
) -> OrganisationOut:
    """Create an organisation (admin); 409 when the name is taken."""
    org = service.create_organisation(
        session, name=body.name, kind=body.kind, monthly_fee=body.monthly_fee, actor=who
    )
    return OrganisationOut.model_validate(org)


@router.patch(
    "/organisations/{org_id}",
    response_model=OrganisationOut,
    responses={
        200: {"description": "the organisation as it is now"},
        401: {"description": "no valid credentials"},
        403: {"description": "not an admin, or a token without the 'admin' and 'write' scopes"},
        404: {"description": "no such organisation"},
        409: {"description": "another organisation has that name"},
        422: {"description": "the body does not validate"},
    },
)
def update_organisation(
    org_id: Annotated[int, Path(ge=1, le=MAX_ID, description="organisation id")],
    body: OrganisationPatch,
    session: SessionDep,
    who: AdminPrincipal,
) -> OrganisationOut:
    """Rename an organisation, change its monthly fee (null: not paid by score) or
    (de)activate it (admin); only the fields sent change. An inactive firm keeps its work and
    people but takes no new work and no new users."""
    org = repository.get_organisation(session, org_id)
    if org is None:
        raise NotFound(f"organisation {org_id} not found")
    changes = body.model_dump(include=body.model_fields_set)
    if changes.get("name", "") is None or changes.get("active", False) is None:
        raise InvalidAccount("name and active cannot be null")
    service.update_organisation(session, org=org, changes=changes, actor=who)
    return OrganisationOut.model_validate(org)
