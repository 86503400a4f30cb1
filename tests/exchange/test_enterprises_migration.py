"""Migration 0008: down and up again keeps every other user's tokens, and head matches."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import text

import ledger.models
from exchange.extensions import db
from exchange.identity import service
from exchange.migrate import alembic_config
from exchange.models import Base, Role
from exchange.services import enterprises
from exchange.services.demo_enterprises import APPROVER, REQUESTER
from exchange.uow import new_unit_of_work
from tests.exchange.enterprise_helpers import credit


def _migrate(revision: str, down: bool = False) -> None:
    from alembic import command

    engine = db.engine
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def _count(sql: str) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def test_down_and_up_keeps_tokens(demo_registry: Flask) -> None:
    with demo_registry.app_context():
        with new_unit_of_work(db.session_factory) as s:
            command = enterprises.OpenEnterprise(
                "e-mig", "ordos", "迁移测试", "Migration test", "power", credit(77)
            )
            enterprises.request_enterprise(s, REQUESTER, command)
            enterprises.approve_enterprise(s, APPROVER, "e-mig")
            admin = service.create_user(s, username="mig-admin", role=Role.ADMIN)
            service.create_token(s, admin.id, name="keep")
            rep = service.create_user(
                s, username="mig-rep", role=Role.REPRESENTATIVE,
                participant_code="e-mig", rights="approve",
            )  # fmt: skip
            service.create_token(s, rep.id, name="goes")
            s.commit()
        assert _count("SELECT count(*) FROM api_tokens") == 2
        _migrate("0007_continuous", down=True)
        try:
            assert _count("SELECT count(*) FROM api_tokens") == 1
            assert _count("SELECT count(*) FROM users WHERE username = 'mig-admin'") == 1
            assert _count("SELECT count(*) FROM leagues WHERE kind = 'enterprise'") == 1
        finally:
            _migrate("head")
        assert _count("SELECT count(*) FROM api_tokens") == 1
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, [Base.metadata, ledger.models.LedgerBase.metadata])
        assert diff == []
        # the role is accepted again, and the representative check holds
        with new_unit_of_work(db.session_factory) as s:
            service.create_user(
                s, username="mig-rep2", role=Role.REPRESENTATIVE,
                participant_code="e-mig", rights="approve",
            )  # fmt: skip
            s.commit()


def test_the_database_refuses_a_representative_without_rights(demo_registry: Flask) -> None:
    import pytest
    from sqlalchemy.exc import IntegrityError

    insert = (
        "INSERT INTO users (username, role, active, created_at, session_generation) "
        "VALUES ('{name}', '{role}', true, CURRENT_TIMESTAMP, 0)"
    )
    with demo_registry.app_context():
        for name, role in (("no-rights", "representative"), ("no-role", "superuser")):
            with pytest.raises(IntegrityError), db.engine.begin() as conn:
                conn.execute(text(insert.format(name=name, role=role)))
        with db.engine.begin() as conn:
            conn.execute(text(insert.format(name="fine", role="auditor")))
