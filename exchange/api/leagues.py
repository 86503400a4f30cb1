"""``/api/v1/leagues`` and ``/api/v1/basins``: the participants of the exchange."""

from __future__ import annotations

from collections.abc import Sequence

from flask.views import MethodView
from flask_smorest import Blueprint

from exchange.api.schemas import BasinSchema, LeagueSchema
from exchange.extensions import db
from exchange.models import Basin, League
from exchange.services import registry

blp = Blueprint("leagues", __name__, url_prefix="/api/v1", description="Leagues and basins")


@blp.route("/leagues")
class Leagues(MethodView):
    @blp.response(200, LeagueSchema(many=True))
    def get(self) -> Sequence[League]:
        """List the 12 leagues (盟市) with region and basins."""
        return registry.list_leagues(db.session)


@blp.route("/leagues/<string:code>")
class LeagueByCode(MethodView):
    @blp.response(200, LeagueSchema)
    @blp.alt_response(404, description="No such league")
    def get(self, code: str) -> League:
        """One league by code."""
        return registry.get_league(db.session, code)


@blp.route("/basins")
class Basins(MethodView):
    @blp.response(200, BasinSchema(many=True))
    def get(self) -> Sequence[Basin]:
        """List river basins."""
        return registry.list_basins(db.session)
