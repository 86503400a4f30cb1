"""Who may call what: the expectations of the authorization matrix, in one table.

``RULES`` has one entry per route and method of the app, keyed by
``(METHOD, rule)`` exactly as ``app.url_map`` spells the rule (e.g.
``("GET", "/api/v1/markets/<int:market_id>")``). HEAD and OPTIONS are left out.
``tests/exchange/test_authorization_matrix.py`` fails for every route of the
app without an entry here, and for every entry whose route is gone.

Adding a route? Add its entry: the URL to call (placeholders below), what each
actor gets, and a request body if it takes one. The actors:

- ``anonymous``: no credentials;
- ``league_own``: the league user of the league the URL is about (``ordos``),
  also the user the ``{user_id}`` and ``{token_id}`` placeholders belong to;
- ``league_other``: a league user of another league (``baotou``);
- ``regulator``, ``auditor``, ``admin``;
- ``representative``: a representative (rights ``initiate_and_approve``) of ``{enterprise}``,
  an opened enterprise of ordos; it acts for its enterprise only, never for ordos.

Outcomes: ``OK`` (2xx or 3xx, or one of the rule's ``also_ok`` statuses),
``DENY`` (403 or 404), ``UNAUTH`` (401), ``BAD`` (400, e.g. a form posted
without its CSRF token). For every outcome other than ``OK`` the test also
checks that no table changed. The API is called with bearer tokens; pages too.

Placeholders in ``path`` and in string values of ``json``: ``{league}``
(ordos), ``{market_id}`` and ``{market_code}`` (a demo market ordos may trade,
funded with rights and cash), ``{lot}`` and ``{price}`` (a valid quantity and
limit price in it), ``{order_id}`` (an open sell order of ordos),
``{run_id}`` (a clearing run of that market), ``{user_id}`` (the league_own
user), ``{token_id}`` (a spare token of that user), ``{agreement_id}`` (a compensation
agreement, see the end). A string that is exactly
one placeholder becomes the value itself (an int where the value is one).

Sealed bids: while an order is live (open or partially filled), it is seen by
its league and the regulator only (auditors and other leagues get 404); see
``ORDER_VISIBILITY`` at the end, ``test_live_orders_are_sealed_for_every_actor``
and ``test_sealed_bids_in_order_lists``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

OK = "ok"
DENY = "deny"
UNAUTH = "unauth"
BAD = "bad"

ACTORS = (
    "anonymous",
    "league_other",
    "auditor",
    "regulator",
    "admin",
    "representative",
    "league_own",
)
OWN_LEAGUE = "ordos"
OTHER_LEAGUE = "baotou"


@dataclass(frozen=True)
class Rule:
    """How to call one route and what each actor must get."""

    path: str
    expect: Mapping[str, str]
    json: Any = None
    form: Mapping[str, str] | None = None
    also_ok: frozenset[int] = field(default_factory=frozenset)


def everyone(outcome: str = OK) -> dict[str, str]:
    """The same outcome for every actor, anonymous included."""
    return dict.fromkeys(ACTORS, outcome)


def only(*allowed: str) -> dict[str, str]:
    """``allowed`` actors get OK, other users DENY, anonymous UNAUTH."""
    unknown = set(allowed) - set(ACTORS)
    assert not unknown, f"unknown actors {unknown}"
    return {a: (OK if a in allowed else UNAUTH if a == "anonymous" else DENY) for a in ACTORS}


ANY_USER = ("league_own", "league_other", "regulator", "auditor", "admin", "representative")

NEW_MARKET = {
    "code": "MATRIX-SO2-2028",
    "name_zh": "二氧化硫排污权 2028年度",
    "name_en": "SO2 discharge rights, 2028",
    "right_type": "pollutant",
    "pollutant": "SO2",
    "vintage": "2028",
    "unit": "t",
    "lot": 1,
    "tick": 100,
    "price_floor": 50_000,
    "cap": 300_000,
    "clearing_schedule": "0 10 * * 1",
}

RULES: dict[tuple[str, str], Rule] = {
    # Public market data, pages and documentation.
    ("GET", "/"): Rule("/", everyone()),
    ("GET", "/static/<path:filename>"): Rule("/static/app.css", everyone()),
    ("GET", "/openapi.json"): Rule("/openapi.json", everyone()),
    ("GET", "/api/docs"): Rule("/api/docs", everyone()),
    ("GET", "/api/docs/static/<path:filename>"): Rule(
        "/api/docs/static/swagger-ui.css", everyone()
    ),
    ("GET", "/api/v1/leagues"): Rule("/api/v1/leagues", everyone()),
    ("GET", "/api/v1/leagues/<string:code>"): Rule("/api/v1/leagues/{league}", everyone()),
    ("GET", "/api/v1/basins"): Rule("/api/v1/basins", everyone()),
    ("GET", "/api/v1/right-types"): Rule("/api/v1/right-types", everyone()),
    ("GET", "/api/v1/markets"): Rule("/api/v1/markets", everyone()),
    ("GET", "/api/v1/markets/<int:market_id>"): Rule("/api/v1/markets/{market_id}", everyone()),
    # Operations: the health check and the Prometheus metrics are public (counts and
    # timings by market id and error code, nothing per league or order); serve them
    # on the internal network only (docs/operations.md, docs/threat-model.md).
    ("GET", "/healthz"): Rule("/healthz", everyone()),
    ("GET", "/metrics"): Rule("/metrics", everyone()),
    # The registry: only the regulator changes it.
    ("POST", "/api/v1/markets"): Rule("/api/v1/markets", only("regulator"), json=NEW_MARKET),
    ("PUT", "/api/v1/markets/<int:market_id>/stability"): Rule(
        "/api/v1/markets/{market_id}/stability", only("regulator"), json={"min_cover_percent": 100}
    ),
    # Login pages: forms posted without their CSRF token are refused, whoever posts.
    ("GET", "/login"): Rule("/login", everyone()),
    ("POST", "/login"): Rule(
        "/login", everyone(BAD), form={"username": "regulator", "password": "x" * 10}
    ),
    ("POST", "/logout"): Rule("/logout", everyone(BAD)),
    # Users and tokens: admins manage everyone, users their own tokens.
    ("GET", "/api/v1/me"): Rule("/api/v1/me", only(*ANY_USER)),
    ("GET", "/api/v1/users"): Rule("/api/v1/users", only("admin")),
    ("POST", "/api/v1/users"): Rule(
        "/api/v1/users",
        only("admin"),
        json={"username": "matrix-auditor", "role": "auditor"},
    ),
    ("GET", "/api/v1/users/<int:user_id>"): Rule(
        "/api/v1/users/{user_id}", only("admin", "league_own")
    ),
    ("PATCH", "/api/v1/users/<int:user_id>"): Rule(
        "/api/v1/users/{user_id}", only("admin"), json={"active": True}
    ),
    ("GET", "/api/v1/users/<int:user_id>/tokens"): Rule(
        "/api/v1/users/{user_id}/tokens", only("admin", "league_own")
    ),
    ("POST", "/api/v1/users/<int:user_id>/tokens"): Rule(
        "/api/v1/users/{user_id}/tokens",
        only("admin", "league_own"),
        json={"name": "matrix", "days": 1},
    ),
    ("DELETE", "/api/v1/users/<int:user_id>/tokens/<int:token_id>"): Rule(
        "/api/v1/users/{user_id}/tokens/{token_id}", only("admin", "league_own")
    ),
    # The action log: auditors, regulators and admins read it.
    ("GET", "/api/v1/action-log"): Rule(
        "/api/v1/action-log", only("auditor", "regulator", "admin")
    ),
    # Ledger: the regulator issues and deposits; a league retires its own rights;
    # a league's balances are its own, the regulator's and the auditor's to see.
    ("POST", "/api/v1/allocations"): Rule(
        "/api/v1/allocations",
        only("regulator"),
        json={"league": "{league}", "market": "{market_code}", "quantity": "{lot}"},
    ),
    ("POST", "/api/v1/deposits"): Rule(
        "/api/v1/deposits", only("regulator"), json={"league": "{league}", "amount": 100}
    ),
    ("POST", "/api/v1/retirements"): Rule(
        "/api/v1/retirements",
        only("league_own"),
        json={"league": "{league}", "market": "{market_code}", "quantity": "{lot}"},
    ),
    ("GET", "/api/v1/accounts/<league>/balances"): Rule(
        "/api/v1/accounts/{league}/balances", only("league_own", "regulator", "auditor")
    ),
    ("GET", "/api/v1/accounts/<league>/statement"): Rule(
        "/api/v1/accounts/{league}/statement?asset={market_code}",
        only("league_own", "regulator", "auditor"),
    ),
    ("GET", "/api/v1/ledger/journals"): Rule(
        "/api/v1/ledger/journals", only("regulator", "auditor")
    ),
    ("GET", "/api/v1/ledger/verify"): Rule("/api/v1/ledger/verify", only("regulator", "auditor")),
    # Signed checkpoints and their keys are public: chain names, sequence numbers, hashes.
    ("GET", "/api/v1/ledger/checkpoints"): Rule("/api/v1/ledger/checkpoints", everyone()),
    ("GET", "/api/v1/ledger/checkpoints/latest"): Rule(
        "/api/v1/ledger/checkpoints/latest", everyone()
    ),
    ("GET", "/api/v1/ledger/checkpoints/<int:seq>"): Rule(
        "/api/v1/ledger/checkpoints/1", everyone()
    ),
    ("GET", "/api/v1/ledger/public-key"): Rule("/api/v1/ledger/public-key", everyone()),
    # Trading: leagues enter and cancel their own orders (sealed until cleared);
    # the regulator sees every order and triggers runs; run results are public.
    ("POST", "/api/v1/orders"): Rule(
        "/api/v1/orders",
        only("league_own"),
        json={
            "league": "{league}",
            "market_id": "{market_id}",
            "side": "sell",
            "quantity": "{lot}",
            "limit_price": "{price}",
            "client_order_id": "matrix-new",
        },
    ),
    # A batch is always for the caller's own league: another league's user enters
    # (or, unfunded, is refused with 409 insufficient_funds) orders of their own, never of ordos.
    ("POST", "/api/v1/orders/batch"): Rule(
        "/api/v1/orders/batch",
        only("league_own", "league_other"),
        json={
            "orders": [
                {
                    "market_id": "{market_id}",
                    "side": "sell",
                    "quantity": "{lot}",
                    "limit_price": "{price}",
                    "client_order_id": "matrix-batch",
                }
            ]
        },
        also_ok=frozenset({409}),
    ),
    ("GET", "/api/v1/orders"): Rule(
        "/api/v1/orders",
        only("league_own", "league_other", "regulator", "auditor", "representative"),
    ),
    ("GET", "/api/v1/orders/<int:order_id>"): Rule(
        "/api/v1/orders/{order_id}", only("league_own", "regulator")
    ),
    ("DELETE", "/api/v1/orders/<int:order_id>"): Rule(
        "/api/v1/orders/{order_id}", only("league_own")
    ),
    ("GET", "/api/v1/markets/<int:market_id>/clearing-runs"): Rule(
        "/api/v1/markets/{market_id}/clearing-runs", everyone()
    ),
    ("POST", "/api/v1/markets/<int:market_id>/clearing-runs"): Rule(
        "/api/v1/markets/{market_id}/clearing-runs", only("regulator"), json={}
    ),
    ("GET", "/api/v1/clearing-runs/<int:run_id>"): Rule(
        "/api/v1/clearing-runs/{run_id}", everyone()
    ),
    ("POST", "/api/v1/clearing-runs/<int:run_id>/replay"): Rule(
        "/api/v1/clearing-runs/{run_id}/replay", only("regulator", "auditor")
    ),
}


# Web pages (exchange/web). Pages for a role send anonymous visitors to /login (302,
# which counts as OK here; tests/exchange/test_pages_access.py checks the redirect)
# and answer 403 to other roles. Every form is posted with its CSRF token, so a post
# without one is refused (400) whoever sends it, before anything else happens.


def page_for(*allowed: str) -> dict[str, str]:
    """A role's page: ``allowed`` get OK, other users DENY, anonymous a redirect (OK)."""
    expect = only(*allowed)
    expect["anonymous"] = OK
    return expect


LEAGUES_PAGE = ("league_own", "league_other")
LEDGER_READERS = ("auditor", "regulator")
NO_SUCH_JOB = frozenset({404})  # allowed roles reach the view, which finds no job 999999

RULES.update(
    {
        ("GET", "/markets/<code>"): Rule("/markets/{market_code}", everyone()),
        ("GET", "/markets/<code>/runs/<int:run_id>"): Rule(
            "/markets/{market_code}/runs/{run_id}", everyone()
        ),
        ("GET", "/desk/orders/<int:order_id>/cancel"): Rule(
            "/desk/orders/{order_id}/cancel", page_for("league_own")
        ),
        ("GET", "/regulator/markets/<int:market_id>/clear"): Rule(
            "/regulator/markets/{market_id}/clear", page_for("regulator")
        ),
        ("GET", "/desk"): Rule("/desk", page_for(*LEAGUES_PAGE)),
        ("POST", "/desk/orders"): Rule(
            "/desk/orders",
            everyone(BAD),
            form={"market_id": "1", "side": "sell", "quantity": "1", "limit_price": "1"},
        ),
        ("POST", "/desk/retirements"): Rule(
            "/desk/retirements",
            everyone(BAD),
            form={"retire-market": "{market_code}", "retire-quantity": "1"},
        ),
        ("POST", "/desk/orders/<int:order_id>/cancel"): Rule(
            "/desk/orders/{order_id}/cancel", everyone(BAD)
        ),
        ("GET", "/desk/statement"): Rule(
            "/desk/statement?asset={market_code}", page_for(*LEAGUES_PAGE)
        ),
        ("GET", "/desk/statement.csv"): Rule(
            "/desk/statement.csv?asset=cash", page_for(*LEAGUES_PAGE)
        ),
        ("GET", "/regulator"): Rule("/regulator", page_for("regulator")),
        ("POST", "/regulator/allocations"): Rule(
            "/regulator/allocations",
            everyone(BAD),
            form={"alloc-league": "ordos", "alloc-market": "COD-2027", "alloc-quantity": "1"},
        ),
        ("POST", "/regulator/deposits"): Rule(
            "/regulator/deposits",
            everyone(BAD),
            form={"deposit-league": "ordos", "deposit-amount": "1.00"},
        ),
        ("POST", "/regulator/allocations/upload"): Rule(
            "/regulator/allocations/upload", everyone(BAD)
        ),
        ("GET", "/regulator/uploads/<int:job_id>"): Rule(
            "/regulator/uploads/999999", page_for("regulator"), also_ok=NO_SUCH_JOB
        ),
        ("POST", "/regulator/uploads/<int:job_id>/confirm"): Rule(
            "/regulator/uploads/999999/confirm", everyone(BAD)
        ),
        ("GET", "/regulator/imports/<int:job_id>"): Rule(
            "/regulator/imports/999999", page_for("regulator"), also_ok=NO_SUCH_JOB
        ),
        ("POST", "/regulator/markets/<int:market_id>/clear"): Rule(
            "/regulator/markets/{market_id}/clear", everyone(BAD)
        ),
        ("GET", "/runs"): Rule("/runs", page_for(*LEDGER_READERS)),
        ("GET", "/runs/<int:run_id>"): Rule("/runs/{run_id}", page_for(*LEDGER_READERS)),
        ("GET", "/audit"): Rule("/audit?league={league}", page_for(*LEDGER_READERS)),
        ("GET", "/audit/verify"): Rule("/audit/verify", page_for(*LEDGER_READERS)),
        ("POST", "/audit/verify"): Rule("/audit/verify", everyone(BAD)),
        ("GET", "/audit/verify/<int:job_id>"): Rule(
            "/audit/verify/999999", page_for(*LEDGER_READERS), also_ok=NO_SUCH_JOB
        ),
        ("GET", "/audit/export.csv"): Rule("/audit/export.csv", page_for(*LEDGER_READERS)),
        ("GET", "/audit/export.jsonl"): Rule("/audit/export.jsonl", page_for(*LEDGER_READERS)),
    }
)

# compliance: the regulator opens periods, enters figures, decides objections and closes;
# a league objects, reports and surrenders for itself only; status and report are public;
# the forecast is the league's own (another league's query answers its own), or everyone's
# for the regulator and the auditor.
_PERIOD = "/api/v1/compliance/periods/{period_id}"
_PERIOD_RULE = "/api/v1/compliance/periods/<int:period_id>"
_LEAGUES_AND_READERS = only("league_own", "league_other", "regulator", "auditor")
RULES.update(
    {
        ("GET", "/api/v1/compliance/periods"): Rule("/api/v1/compliance/periods", everyone()),
        ("POST", "/api/v1/compliance/periods"): Rule(
            "/api/v1/compliance/periods",
            only("regulator"),
            json={
                "market_family": "energy",
                "year": 2027,
                "reporting_deadline": "2028-03-31",
                "verification_deadline": "2028-06-30",
                "surrender_deadline": "2028-09-30",
            },
        ),
        ("GET", _PERIOD_RULE): Rule(_PERIOD, everyone()),
        ("PUT", _PERIOD_RULE + "/figures/<league>"): Rule(
            _PERIOD + "/figures/{league}", only("regulator"), json={"verified": 10**6}
        ),
        ("POST", _PERIOD_RULE + "/figures/import"): Rule(
            _PERIOD + "/figures/import",
            only("regulator"),
            json={"csv": "league,verified\n{league},5\n", "dry_run": False},
        ),
        ("GET", _PERIOD_RULE + "/objections"): Rule(_PERIOD + "/objections", _LEAGUES_AND_READERS),
        ("POST", _PERIOD_RULE + "/objections"): Rule(
            _PERIOD + "/objections",
            only("league_own"),
            json={"league": "{league}", "reason": "matrix"},
        ),
        ("POST", _PERIOD_RULE + "/objections/<int:objection_id>/decision"): Rule(
            _PERIOD + "/objections/999999/decision",
            only("regulator"),
            json={"decision": "rejected"},
            also_ok=frozenset({404}),
        ),
        ("PUT", _PERIOD_RULE + "/monthly/<league>/<int:month>"): Rule(
            _PERIOD + "/monthly/{league}/1", only("league_own"), json={"quantity": 10}
        ),
        ("POST", _PERIOD_RULE + "/surrenders"): Rule(
            _PERIOD + "/surrenders",
            only("league_own"),
            json={"league": "{league}", "quantity": "{lot}", "offsets": 0, "client_ref": "matrix"},
        ),
        ("GET", _PERIOD_RULE + "/status"): Rule(_PERIOD + "/status", everyone()),
        ("GET", _PERIOD_RULE + "/report.csv"): Rule(_PERIOD + "/report.csv", everyone()),
        ("GET", _PERIOD_RULE + "/forecast"): Rule(
            _PERIOD + "/forecast?league={league}", _LEAGUES_AND_READERS
        ),
        ("POST", _PERIOD_RULE + "/close"): Rule(
            _PERIOD + "/close", only("regulator"), json={"as_of": "2099-12-31"}
        ),
        # paid allocation (compliance, item 7): the regulator issues against the fee and
        # uses the calculators; a league sees and pays its own bills
        ("POST", "/api/v1/paid-use/issuances"): Rule(
            "/api/v1/paid-use/issuances",
            only("regulator"),
            json={"league": "{league}", "market": "COD-2027", "quantity": 1},
        ),
        ("GET", "/api/v1/paid-use/bills"): Rule("/api/v1/paid-use/bills", _LEAGUES_AND_READERS),
        ("GET", "/api/v1/paid-use/bills/<int:bill_id>"): Rule(
            "/api/v1/paid-use/bills/{bill_id}", only("league_own", "regulator", "auditor")
        ),
        ("POST", "/api/v1/paid-use/bills/<int:bill_id>/payments"): Rule(
            "/api/v1/paid-use/bills/{bill_id}/payments",
            only("league_own"),
            json={"amount": 100_000 * 5, "client_ref": "matrix"},
        ),
        ("POST", "/api/v1/allocation-calculators/carbon"): Rule(
            "/api/v1/allocation-calculators/carbon",
            only("regulator"),
            json={"benchmark_milli": 877, "output": 1000, "factor_permille": 1000},
        ),
        ("POST", "/api/v1/allocation-calculators/energy"): Rule(
            "/api/v1/allocation-calculators/energy",
            only("regulator"),
            json={"new_use": 1000, "b_permille": 300, "intensity_milli": 500, "average_milli": 400},
        ),
        # compliance pages: the report is public, the desk the leagues', the console the
        # regulator's and the auditor's; forms posted without their CSRF token are refused
        ("GET", "/compliance"): Rule("/compliance", everyone()),
        ("GET", "/compliance/<int:period_id>"): Rule("/compliance/{period_id}", everyone()),
        ("GET", "/desk/compliance"): Rule(
            "/desk/compliance", page_for("league_own", "league_other")
        ),
        ("POST", "/desk/compliance/<int:period_id>/surrender"): Rule(
            "/desk/compliance/{period_id}/surrender", everyone(BAD)
        ),
        ("POST", "/desk/compliance/<int:period_id>/monthly"): Rule(
            "/desk/compliance/{period_id}/monthly", everyone(BAD)
        ),
        ("POST", "/desk/compliance/<int:period_id>/objections"): Rule(
            "/desk/compliance/{period_id}/objections", everyone(BAD)
        ),
        ("POST", "/desk/paid-use/bills/<int:bill_id>/pay"): Rule(
            "/desk/paid-use/bills/{bill_id}/pay", everyone(BAD)
        ),
        ("GET", "/regulator/calculators"): Rule(
            "/regulator/calculators?kind=carbon&benchmark_milli=877&output=10&factor_permille=1000",
            page_for("regulator"),
        ),
        ("GET", "/regulator/compliance/<int:period_id>"): Rule(
            "/regulator/compliance/{period_id}", page_for("regulator", "auditor")
        ),
        ("POST", "/regulator/compliance/<int:period_id>/figures.csv"): Rule(
            "/regulator/compliance/{period_id}/figures.csv", everyone(BAD)
        ),
        ("POST", "/regulator/compliance/<int:period_id>/figures"): Rule(
            "/regulator/compliance/{period_id}/figures", everyone(BAD)
        ),
        ("POST", "/regulator/compliance/<int:period_id>/objections/<int:objection_id>"): Rule(
            "/regulator/compliance/{period_id}/objections/999999", everyone(BAD)
        ),
    }
)


# compensation: reads are public (the public report); the regulator registers agreements,
# enters readings and settles. ``{agreement_id}``: an annual agreement (bayannur upstream,
# ordos downstream) with a reading for 2024 (the world fixture).
_AGREEMENTS = "/api/v1/compensation/agreements"
_AGREEMENT = "/api/v1/compensation/agreements/<int:agreement_id>"
RULES.update(
    {
        ("GET", _AGREEMENTS): Rule(_AGREEMENTS, everyone()),
        ("POST", _AGREEMENTS): Rule(
            _AGREEMENTS,
            only("regulator"),
            json={
                "upstream": "wuhai",
                "downstream": "bayannur",
                "section": "matrix section",
                "target_class": 3,
                "amount_per_class": 100,
                "indicators": {"COD": 16000},
                "amount_per_point": 10,
                "index_cap": 1000,
                "assessment": "monthly",
                "first_year": 2024,
                "last_year": 2024,
            },
        ),
        ("GET", _AGREEMENT): Rule(_AGREEMENTS + "/{agreement_id}", everyone()),
        ("POST", _AGREEMENT + "/readings"): Rule(
            _AGREEMENTS + "/{agreement_id}/readings",
            only("regulator"),
            json={"period": "2025", "class": 2, "indicators": {"COD": 15000, "NH3-N": 400}},
        ),
        ("GET", _AGREEMENT + "/settlements"): Rule(
            _AGREEMENTS + "/{agreement_id}/settlements", everyone()
        ),
        ("POST", _AGREEMENT + "/settlements"): Rule(
            _AGREEMENTS + "/{agreement_id}/settlements", only("regulator"), json={"period": "2024"}
        ),
        # pages: the report and its CSV are public, the regulator's page and forms are its own
        ("GET", "/compensation"): Rule("/compensation", everyone()),
        ("GET", "/compensation/<int:agreement_id>"): Rule(
            "/compensation/{agreement_id}", everyone()
        ),
        ("GET", "/compensation/<int:agreement_id>/report.csv"): Rule(
            "/compensation/{agreement_id}/report.csv", everyone()
        ),
        ("GET", "/regulator/compensation"): Rule("/regulator/compensation", page_for("regulator")),
        ("POST", "/regulator/compensation/agreements"): Rule(
            "/regulator/compensation/agreements", everyone(BAD), form={"agr-section": "x"}
        ),
        ("POST", "/regulator/compensation/readings"): Rule(
            "/regulator/compensation/readings", everyone(BAD), form={"rd-period": "2025"}
        ),
        ("POST", "/regulator/compensation/readings/upload"): Rule(
            "/regulator/compensation/readings/upload", everyone(BAD)
        ),
        ("POST", "/regulator/compensation/readings/import"): Rule(
            "/regulator/compensation/readings/import", everyone(BAD), form={"csv": "eA=="}
        ),
        ("POST", "/regulator/compensation/settlements"): Rule(
            "/regulator/compensation/settlements", everyone(BAD), form={"st-period": "2024"}
        ),
    }
)


# Live orders (status open or partially filled) are sealed: only their league and the
# regulator see them, auditors included in the refusal; once an order is done, auditors
# see it too (``exchange.services.visibility``). What each actor gets for an order of
# the own league in each status, on ``GET /api/v1/orders/{order_id}`` and in the list.
_SEALED = {**only("league_own", "regulator")}
_DONE = {**only("league_own", "regulator", "auditor")}
ORDER_VISIBILITY: dict[str, dict[str, str]] = {
    "open": _SEALED,
    "partially_filled": _SEALED,
    "filled": _DONE,
    "cancelled": _DONE,
    "expired": _DONE,
}


# transfers (issue 13): approved transfers are public, proposals are their two parties' and
# the regulator's (others get 404); a league proposes as a party, the counterparty accepts
# or rejects, the proposer withdraws; a regulator reviews, a different one approves; the
# contract is for the two parties and the regulator. {transfer_*}: transfers with ordos as
# buyer (tests/exchange/transfer_helpers.matrix_transfers).
_PRIVATE = {**only("league_own", "regulator"), "anonymous": DENY}
RULES.update(
    {
        ("GET", "/api/v1/transfers"): Rule("/api/v1/transfers", everyone()),
        ("POST", "/api/v1/transfers"): Rule(
            "/api/v1/transfers",
            only("league_own"),
            json={
                "market_family": "water:yellow",
                "seller": "bayannur",
                "buyer": "{league}",
                "quantity_per_year": 1_000,
                "first_year": 2027,
                "last_year": 2028,
                "price": 100,
                "payment": "yearly",
                "client_ref": "matrix-new",
            },
        ),
        ("GET", "/api/v1/transfers/<int:transfer_id>"): Rule(
            "/api/v1/transfers/{transfer_in}", _PRIVATE
        ),
        ("POST", "/api/v1/transfers/<int:transfer_id>/accept"): Rule(
            "/api/v1/transfers/{transfer_in}/accept", only("league_own"), json={}
        ),
        ("POST", "/api/v1/transfers/<int:transfer_id>/reject"): Rule(
            "/api/v1/transfers/{transfer_in}/reject", only("league_own"), json={"reason": "no"}
        ),
        ("POST", "/api/v1/transfers/<int:transfer_id>/withdraw"): Rule(
            "/api/v1/transfers/{transfer_out}/withdraw", only("league_own"), json={}
        ),
        ("POST", "/api/v1/transfers/<int:transfer_id>/review"): Rule(
            "/api/v1/transfers/{transfer_accepted}/review", only("regulator"), json={}
        ),
        ("POST", "/api/v1/transfers/<int:transfer_id>/approve"): Rule(
            "/api/v1/transfers/{transfer_reviewed}/approve", only("regulator"), json={}
        ),
        ("GET", "/api/v1/transfers/<int:transfer_id>/contract.pdf"): Rule(
            "/api/v1/transfers/{transfer_active}/contract.pdf", only("league_own", "regulator")
        ),
        ("GET", "/transfers"): Rule("/transfers", everyone()),
        ("GET", "/desk/transfers"): Rule("/desk/transfers", page_for(*LEAGUES_PAGE)),
        ("POST", "/desk/transfers"): Rule(
            "/desk/transfers", everyone(BAD), form={"propose-quantity": "1000"}
        ),
        ("POST", "/desk/transfers/<int:transfer_id>/<action>"): Rule(
            "/desk/transfers/{transfer_in}/accept", everyone(BAD)
        ),
        ("GET", "/regulator/transfers"): Rule("/regulator/transfers", page_for("regulator")),
        ("POST", "/regulator/transfers/<int:transfer_id>/<action>"): Rule(
            "/regulator/transfers/{transfer_accepted}/review", everyone(BAD)
        ),
    }
)

# continuous: public market data of continuous markets (the matrix's market is a call
# auction, so these views answer 404 "no continuous market" to everyone: allowed here;
# tests/exchange/test_continuous_api.py checks them on a continuous market).
NOT_CONTINUOUS = frozenset({404})
RULES.update(
    {
        ("GET", "/api/v1/markets/<int:market_id>/book"): Rule(
            "/api/v1/markets/{market_id}/book", everyone(), also_ok=NOT_CONTINUOUS
        ),
        ("GET", "/api/v1/markets/<int:market_id>/trades"): Rule(
            "/api/v1/markets/{market_id}/trades", everyone(), also_ok=NOT_CONTINUOUS
        ),
        ("GET", "/api/v1/markets/<int:market_id>/closes"): Rule(
            "/api/v1/markets/{market_id}/closes", everyone(), also_ok=NOT_CONTINUOUS
        ),
        ("POST", "/api/v1/block-trades"): Rule(
            "/api/v1/block-trades",
            only("league_own", "league_other"),
            json={
                "market_id": "{market_id}",
                "side": "sell",
                "counterparty": "baotou",
                "quantity": 100_000,
                "price": "{price}",
                "client_id": "authz-block",
            },
            also_ok=NOT_CONTINUOUS,
        ),
        ("GET", "/api/v1/block-trades"): Rule(
            "/api/v1/block-trades", only("league_own", "league_other", "regulator", "auditor")
        ),
        ("POST", "/api/v1/block-trades/<int:block_id>/confirm"): Rule(
            "/api/v1/block-trades/999999/confirm",
            only("league_own", "league_other"),
            json={},
            also_ok=NOT_CONTINUOUS,
        ),
        ("POST", "/api/v1/block-trades/<int:block_id>/cancel"): Rule(
            "/api/v1/block-trades/999999/cancel",
            only("league_own", "league_other"),
            json={},
            also_ok=NOT_CONTINUOUS,
        ),
        ("GET", "/markets/<code>/live"): Rule(
            "/markets/{market_code}/live", everyone(), also_ok=NOT_CONTINUOUS
        ),
    }
)

# Bundle orders (issue 21): a league enters and cancels its own; an open bundle is sealed like a
# live order (tests/exchange/test_bundles_api.py::test_a_live_bundle_is_sealed). Here the
# allowed roles reach the view: bundle 999999 does not exist (404), and the matrix market's
# schedule decides whether the new bundle's window is one of its times (else 422; unfunded 409).
_NO_SUCH_BUNDLE = frozenset({404})
RULES.update(
    {
        ("POST", "/api/v1/bundles"): Rule(
            "/api/v1/bundles",
            only("league_own", "league_other", "representative"),
            json={
                "window": "2099-01-01T00:00:00+00:00",
                "legs": [{"market_id": "{market_id}", "side": "buy", "quantity": "{lot}"}],
                "max_total": 1_000,
                "client_order_id": "matrix-bundle",
            },
            also_ok=frozenset({409, 422}),
        ),
        ("GET", "/api/v1/bundles"): Rule(
            "/api/v1/bundles",
            only("league_own", "league_other", "regulator", "auditor", "representative"),
        ),
        ("GET", "/api/v1/bundles/<int:bundle_id>"): Rule(
            "/api/v1/bundles/999999",
            only("league_own", "league_other", "regulator", "auditor", "representative"),
            also_ok=_NO_SUCH_BUNDLE,
        ),
        ("DELETE", "/api/v1/bundles/<int:bundle_id>"): Rule(
            "/api/v1/bundles/999999",
            only("league_own", "league_other", "regulator", "representative"),
            also_ok=_NO_SUCH_BUNDLE,
        ),
    }
)

RULES.update(
    {
        # the desk's cancel of a bundle: a form posted without its CSRF token is refused
        ("POST", "/desk/bundles/<int:bundle_id>/cancel"): Rule(
            "/desk/bundles/999999/cancel", everyone(BAD)
        ),
    }
)

# Participants and enterprises (issue 20): the list is public (an enterprise in it only for
# its league, its representatives, regulator and auditors); an enterprise is requested by the
# regulator or its league's official and opened by a second official; states are changed by
# the regulator (any) or the league (restrict or suspend its own). Representatives see and
# approve their enterprise's instructions and trusted list.
_NEW_ENTERPRISE = {
    "code": "ordos-matrix-new",
    "kind": "enterprise",
    "league": "{league}",
    "name_zh": "矩阵测试企业",
    "name_en": "Matrix test enterprise",
    "sector": "power",
    "credit_code": "91150600MA0N00001W",
}
_PENDING_DONE = frozenset({409})  # the second allowed official finds it decided already
RULES.update(
    {
        ("GET", "/api/v1/participants"): Rule("/api/v1/participants", everyone()),
        # an enterprise is seen by its league, its representatives, regulator and auditors
        ("GET", "/api/v1/participants/<string:code>"): Rule(
            "/api/v1/participants/{enterprise}",
            {**only("league_own", "regulator", "auditor", "representative"), "anonymous": DENY},
        ),
        ("POST", "/api/v1/participants"): Rule(
            "/api/v1/participants",
            only("regulator", "league_own"),
            json=_NEW_ENTERPRISE,
            also_ok=_PENDING_DONE,
        ),
        ("POST", "/api/v1/participants/<string:code>/approve"): Rule(
            "/api/v1/participants/{pending_enterprise}/approve",
            only("regulator", "league_own"),
            also_ok=_PENDING_DONE,
        ),
        ("POST", "/api/v1/participants/<string:code>/reject"): Rule(
            "/api/v1/participants/{refusable_enterprise}/reject",
            only("regulator", "league_own"),
            json={"reason": "matrix"},
            also_ok=_PENDING_DONE,
        ),
        ("POST", "/api/v1/participants/<string:code>/state"): Rule(
            "/api/v1/participants/{enterprise}/state",
            only("regulator", "league_own"),
            json={"state": "restricted", "reason": "matrix"},
        ),
        ("GET", "/api/v1/participants/<string:code>/trusted"): Rule(
            "/api/v1/participants/{enterprise}/trusted",
            only("representative", "regulator", "auditor"),
        ),
        ("POST", "/api/v1/participants/<string:code>/trusted"): Rule(
            "/api/v1/participants/{enterprise}/trusted",
            only("representative", "regulator"),
            json={"counterparty": "baotou"},
            also_ok=_PENDING_DONE,
        ),
        ("DELETE", "/api/v1/participants/<string:code>/trusted/<string:counterparty>"): Rule(
            "/api/v1/participants/{enterprise}/trusted/baotou",
            only("representative", "regulator"),
            also_ok=frozenset({404}),  # the first allowed caller removed it
        ),
        ("GET", "/api/v1/participants/<string:code>/holdings"): Rule(
            "/api/v1/participants/{enterprise}/holdings",
            only("league_own", "regulator", "auditor", "representative"),
        ),
        ("GET", "/desk/enterprises"): Rule(
            "/desk/enterprises", page_for("league_own", "league_other")
        ),
        ("GET", "/api/v1/instructions"): Rule(
            "/api/v1/instructions", only("representative", "regulator")
        ),
        ("GET", "/api/v1/instructions/<int:instruction_id>"): Rule(
            "/api/v1/instructions/{instruction_id}", only("representative", "regulator")
        ),
        ("POST", "/api/v1/instructions/<int:instruction_id>/approve"): Rule(
            "/api/v1/instructions/{instruction_id}/approve", only("representative")
        ),
        ("POST", "/api/v1/instructions/<int:instruction_id>/reject"): Rule(
            "/api/v1/instructions/{instruction_to_reject}/reject",
            only("representative"),
            json={"reason": "matrix"},
        ),
    }
)
