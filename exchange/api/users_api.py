"""``/api/v1/me``, ``/api/v1/users`` (tokens included) and ``/api/v1/action-log``.

Admins manage users and anyone's tokens; every user may list, create and
revoke their own tokens. A token's secret is in the response that creates it
and nowhere else (only its SHA-256 is stored).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from exchange.api.access import Actor, Role, require_roles
from exchange.api.schemas import strict_int
from exchange.errors import Forbidden
from exchange.extensions import db
from exchange.identity import service
from exchange.identity.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from exchange.identity.security import limiter, token_limit
from exchange.models import ApiToken, User
from exchange.uow import unit_of_work

blp = Blueprint(
    "users",
    __name__,
    url_prefix="/api/v1",
    description="Users, API tokens and the action log",
)

PASSWORD = validate.Length(MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH)


class MeSchema(Schema):
    user_id = fields.Integer()
    username = fields.String()
    role = fields.Enum(Role, by_value=True)
    league = fields.String(attribute="league_code", allow_none=True)
    auth = fields.String(metadata={"description": "token or session"})


class UserSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    role = fields.Enum(Role, by_value=True)
    league = fields.String(attribute="league_code", allow_none=True)
    active = fields.Boolean()
    created_at = fields.DateTime()


class UserCreateSchema(Schema):
    username = fields.String(
        required=True,
        validate=validate.Length(1, 64),
        metadata={"description": "a-z, 0-9, '_', '.', '-' (case-insensitive)"},
    )
    role = fields.Enum(Role, by_value=True, required=True)
    league = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(1, 32),
        metadata={"description": "Required for (and only for) the league role."},
    )
    password = fields.String(
        load_default=None,
        allow_none=True,
        load_only=True,
        validate=PASSWORD,
        metadata={"description": "Omit for an API-only user (no page login)."},
    )


class UserUpdateSchema(Schema):
    active = fields.Boolean(metadata={"description": "false blocks logins and every token"})
    password = fields.String(load_only=True, validate=PASSWORD)


class TokenSchema(Schema):
    id = fields.Integer()
    user_id = fields.Integer()
    name = fields.String()
    prefix = fields.String(metadata={"description": "First characters, to recognise it."})
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)
    status = fields.String(validate=validate.OneOf(["active", "expired", "revoked"]))


class NewTokenSchema(Schema):
    """A token just created, with its secret: shown once, store it now."""

    id = fields.Integer(attribute="token.id")
    user_id = fields.Integer(attribute="token.user_id")
    name = fields.String(attribute="token.name")
    prefix = fields.String(attribute="token.prefix")
    created_at = fields.DateTime(attribute="token.created_at")
    expires_at = fields.DateTime(attribute="token.expires_at")
    token = fields.String(
        attribute="secret",
        metadata={"description": "Send as 'Authorization: Bearer <token>'. Shown only once."},
    )


class TokenCreateSchema(Schema):
    name = fields.String(load_default="", validate=validate.Length(0, 100))
    days = strict_int(
        1,
        service.MAX_TOKEN_DAYS,
        load_default=service.DEFAULT_TOKEN_DAYS,
        metadata={"description": "Days until the token expires."},
    )


class ActionLogSchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    user_id = fields.Integer(allow_none=True)
    username = fields.String()
    role = fields.String(allow_none=True)
    league = fields.String(attribute="league_code", allow_none=True)
    auth = fields.String(allow_none=True, metadata={"description": "token, session, cli, ..."})
    token_id = fields.Integer(allow_none=True)
    method = fields.String()
    path = fields.String()
    endpoint = fields.String(allow_none=True)
    status = fields.Integer(metadata={"description": "HTTP status of the outcome."})
    remote_addr = fields.String(allow_none=True)


class ActionLogPageSchema(Schema):
    items = fields.List(fields.Nested(ActionLogSchema))
    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer(metadata={"description": "Entries matching the filters."})


class ActionLogQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 1_000_000))
    page_size = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    username = fields.String(validate=validate.Length(1, 64))
    method = fields.String(validate=validate.OneOf(["POST", "PUT", "PATCH", "DELETE", "CLI"]))
    status = fields.Integer(validate=validate.Range(100, 599))
    path = fields.String(
        validate=validate.Length(1, 2000), metadata={"description": "Path prefix."}
    )
    since = fields.AwareDateTime(
        default_timezone=UTC, metadata={"description": "From this time (UTC if no zone)."}
    )
    until = fields.AwareDateTime(
        default_timezone=UTC, metadata={"description": "Before this time (UTC if no zone)."}
    )


def _self_or_admin(user_id: int) -> Actor:
    """Admins may manage anyone; other users only themselves."""
    actor = require_roles(*Role)
    if actor.role is Role.ADMIN or actor.user_id == user_id:
        return actor
    raise Forbidden("you may manage only your own tokens")


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, MeSchema)
    def get(self) -> Actor:
        """The user behind this request (any role)."""
        return require_roles(*Role)


@blp.route("/users")
class Users(MethodView):
    @blp.response(200, UserSchema(many=True))
    def get(self) -> Sequence[User]:
        """List users (admin)."""
        require_roles(Role.ADMIN)
        return service.list_users(db.session)

    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema)
    @blp.alt_response(409, description="A user with this name exists")
    def post(self, data: dict[str, Any]) -> User:
        """Create a user (admin)."""
        require_roles(Role.ADMIN)
        with unit_of_work(db.session) as session:
            return service.create_user(
                session,
                username=data["username"],
                role=data["role"],
                league_code=data["league"],
                password=data["password"],
            )


@blp.route("/users/<int:user_id>")
class UserById(MethodView):
    @blp.response(200, UserSchema)
    @blp.alt_response(404, description="No such user")
    def get(self, user_id: int) -> User:
        """One user (admin, or the user themselves)."""
        _self_or_admin(user_id)
        return service.get_user(db.session, user_id)

    @blp.arguments(UserUpdateSchema)
    @blp.response(200, UserSchema)
    @blp.alt_response(404, description="No such user")
    def patch(self, data: dict[str, Any], user_id: int) -> User:
        """Activate or deactivate a user, or set their password (admin)."""
        require_roles(Role.ADMIN)
        with unit_of_work(db.session) as session:
            return service.update_user(
                session, user_id, active=data.get("active"), password=data.get("password")
            )


@blp.route("/users/<int:user_id>/tokens")
class Tokens(MethodView):
    @blp.response(200, TokenSchema(many=True))
    def get(self, user_id: int) -> Sequence[ApiToken]:
        """A user's tokens, without their secrets (admin, or the user themselves)."""
        _self_or_admin(user_id)
        return service.list_tokens(db.session, user_id)

    @limiter.limit(token_limit)
    @blp.arguments(TokenCreateSchema)
    @blp.response(201, NewTokenSchema)
    def post(self, data: dict[str, Any], user_id: int) -> service.NewToken:
        """Create an API token (admin, or the user themselves); its secret is shown once."""
        _self_or_admin(user_id)
        with unit_of_work(db.session) as session:
            return service.create_token(session, user_id, days=data["days"], name=data["name"])


@blp.route("/users/<int:user_id>/tokens/<int:token_id>")
class TokenById(MethodView):
    @blp.response(200, TokenSchema)
    @blp.alt_response(404, description="No such token of this user")
    def delete(self, user_id: int, token_id: int) -> ApiToken:
        """Revoke a token (admin, or its user); it stops working at once."""
        _self_or_admin(user_id)
        with unit_of_work(db.session) as session:
            return service.revoke_token(session, user_id, token_id)


@blp.route("/action-log")
class ActionLogView(MethodView):
    @blp.arguments(ActionLogQuerySchema, location="query")
    @blp.response(200, ActionLogPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """State-changing requests, newest first (auditor, regulator, admin).

        Each entry: who (user, role, league, how authenticated), what (method,
        path, endpoint), when, from where (client address) and the outcome
        (HTTP status). Page with ``page`` (from 1) and ``page_size`` (up to 500).
        """
        require_roles(Role.AUDITOR, Role.REGULATOR, Role.ADMIN)
        items, total = service.query_action_log(db.session, **query)
        return {
            "items": items,
            "page": query["page"],
            "page_size": query["page_size"],
            "total": total,
        }
