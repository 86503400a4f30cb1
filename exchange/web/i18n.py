"""Labels of the web pages in English and Chinese, and the language switch.

No external service: one table, ``LABELS``, key -> (English, Chinese). Templates
call ``t("key")``; a missing key is a bug (a test checks that every key used in the
templates exists). The language comes from ``?lang=en|zh`` (remembered in a cookie
for a year, so it survives logging in, which clears the session), else the cookie,
else the browser's ``Accept-Language``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, current_app, g, request
from flask.wrappers import Response

LANGUAGES = ("en", "zh")
DEFAULT_LANGUAGE = "en"
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600

LABELS: dict[str, tuple[str, str]] = {
    # site and navigation
    "site_name": ("Environmental Rights Exchange", "内蒙古环境权益交易所"),
    "nav_main": ("Main", "主导航"),
    "nav_markets": ("Markets", "市场"),
    "nav_desk": ("League desk", "盟市交易台"),
    "nav_console": ("Regulator console", "监管控制台"),
    "nav_audit": ("Audit", "审计"),
    "nav_api": ("API", "接口"),
    "nav_language": ("Language", "语言"),
    "log_in": ("Log in", "登录"),
    "log_out": ("Log out", "退出"),
    "footer": (
        "Quantities are whole units; prices and cash are shown in yuan, kept in integer fen.",
        "数量为整数单位；价格与资金以元显示，以整数分记账。",
    ),
    "skip_to_content": ("Skip to content", "跳到正文"),
    # market overview
    "markets_title": ("Markets", "市场"),
    "markets_lead": (
        "Water-use, pollutant-discharge, carbon-emission and energy-use rights traded between "
        "the leagues of Inner Mongolia in periodic sealed-bid call auctions.",
        "用水权、排污权、碳排放权和用能权在盟市之间以密封集合竞价方式定期出清。",
    ),
    "markets_caption": ("Registered markets", "已登记市场"),
    "no_markets": ("No markets yet.", "暂无市场。"),
    "code": ("Code", "代码"),
    "market": ("Market", "市场"),
    "unit": ("Unit", "单位"),
    "lot": ("Lot", "交易单位"),
    "tick": ("Tick", "最小变动价位"),
    "price_range": ("Floor – ceiling (yuan)", "价格区间（元）"),
    "cap": ("Cap", "总量"),
    "last_price": ("Last price (yuan)", "最近出清价（元）"),
    "last_volume": ("Last volume", "最近成交量"),
    "next_run": ("Next run", "下次出清"),
    "schedule": ("Schedule", "出清时间表"),
    "zonal": ("zonal", "分区"),
    "leagues_title": ("Leagues", "盟市"),
    "leagues_caption": ("The 12 league-level divisions", "十二个盟市"),
    "league": ("League", "盟市"),
    "region": ("Region", "区域"),
    "basins": ("Basins", "流域"),
    "none": ("—", "—"),
    "no_trade": ("no trade", "未成交"),
    # market page
    "market_title": ("Market", "市场"),
    "price_history": ("Price and volume history", "价格与成交量走势"),
    "price_history_desc": (
        "Clearing price (line, yuan per unit) and volume (bars) of each completed run.",
        "每次出清的出清价（折线，元/单位）和成交量（柱）。",
    ),
    "no_history": ("No clearing run yet.", "尚无出清记录。"),
    "last_run": ("Last clearing run", "最近一次出清"),
    "curves": ("Aggregated supply and demand", "汇总供求曲线"),
    "curves_desc": (
        "Cumulative demand (buy quantity with limit at or above the price) and supply (sell "
        "quantity with limit at or below it); the clearing point is marked.",
        "累计需求（限价不低于该价格的买量）和累计供给（限价不高于该价格的卖量）；标出出清点。",
    ),
    "no_curves": ("The run had no orders.", "该次出清无订单。"),
    "auction_results": ("Auction results", "竞价结果"),
    "verify_already_running": (
        "A verification is already running (job {id}); here it is. One runs at a time.",
        "已有一项核验正在运行（任务 {id}），已为您打开。同一时间只运行一项核验。",
    ),
    "bids": ("Bids (buy orders)", "买方报价数"),
    "bidders": ("Bidders (leagues)", "买方盟市数"),
    "offers": ("Offers (sell orders)", "卖方报价数"),
    "sellers": ("Sellers (leagues)", "卖方盟市数"),
    "bid_to_cover": ("Bid-to-cover (units bid per unit offered)", "认购倍数（买量/卖量）"),
    "curves_sealed": (
        "The curves are hidden while an order of this run is still live (sealed bids).",
        "本次出清仍有有效订单，供求曲线保持密封。",
    ),
    "demand": ("Demand", "需求"),
    "supply": ("Supply", "供给"),
    "clearing_point": ("Clearing point", "出清点"),
    "price_yuan": ("Price (yuan)", "价格（元）"),
    "quantity": ("Quantity", "数量"),
    "volume": ("Volume", "成交量"),
    "price": ("Price", "价格"),
    "zone_prices": ("Zone prices", "分区价格"),
    "zone": ("Zone", "分区"),
    "flows": ("Flows between zones", "区间流量"),
    "from_zone": ("From", "从"),
    "to_zone": ("To", "到"),
    "capacity": ("Capacity", "容量"),
    "unbounded": ("unbounded", "不限"),
    "recent_runs": ("Recent clearing runs", "近期出清"),
    "window": ("Window", "时段"),
    "status": ("Status", "状态"),
    "orders": ("Orders", "订单数"),
    "details": ("Details", "详情"),
    "chart_table": ("Data of the chart", "图表数据"),
    "eligible_leagues": ("Eligible leagues", "可交易盟市"),
    # league desk
    "desk_title": ("League desk", "盟市交易台"),
    "holdings": ("Holdings", "持仓"),
    "holdings_caption": (
        "Posted = available + held (held: reserved by open orders).",
        "总额 = 可用 + 冻结（冻结：被未成交订单占用）。",
    ),
    "asset": ("Asset", "资产"),
    "posted": ("Posted", "总额"),
    "held": ("Held", "冻结"),
    "available": ("Available", "可用"),
    "cash": ("Cash", "资金"),
    "cash_yuan": ("Cash (yuan)", "资金（元）"),
    "no_holdings": ("No holdings yet.", "暂无持仓。"),
    "new_order": ("New order", "新订单"),
    "side": ("Side", "方向"),
    "buy": ("Buy", "买入"),
    "sell": ("Sell", "卖出"),
    "limit_price_yuan": ("Limit price (yuan per unit)", "限价（元/单位）"),
    "quantity_units": ("Quantity (units)", "数量（单位）"),
    "validity": ("Validity", "有效期"),
    "gtc": ("Good until cancelled", "撤销前有效"),
    "run": ("Next clearing run only", "仅下一次出清"),
    "client_order_id": ("Your reference (idempotency key)", "委托编号（防重复）"),
    "place_order": ("Place order", "提交订单"),
    "order_placed": ("Order {id} placed.", "订单 {id} 已提交。"),
    "order_repeat": (
        "Order {id} had this reference already; nothing new was placed.",
        "该编号已用于订单 {id}，未重复下单。",
    ),
    "order_cancelled": ("Order {id} cancelled.", "订单 {id} 已撤销。"),
    "retire_title": ("Retire (surrender) rights", "注销（上缴）权益"),
    "retire_button": ("Retire", "注销"),
    "retire_hint": (
        "Retired rights leave your holdings for good; the ledger records a retirement journal.",
        "注销的权益将永久移出持有量，账本记录一笔注销分录。",
    ),
    "retired": ("{quantity} units of {market} retired.", "已注销 {market} {quantity} 单位。"),
    "form_has_errors": ("Please correct the fields marked below.", "请更正下列标出的字段。"),
    "open_orders": ("Open orders", "未成交订单"),
    "no_open_orders": ("No open orders.", "无未成交订单。"),
    "order": ("Order", "订单"),
    "limit": ("Limit (yuan)", "限价（元）"),
    "filled": ("Filled", "已成交"),
    "remaining": ("Remaining", "剩余"),
    "created": ("Created", "创建时间"),
    "cancel": ("Cancel", "撤销"),
    "cancel_order": ("Cancel order {id}", "撤销订单 {id}"),
    "fills": ("Fills", "成交"),
    "no_fills": ("No fills yet.", "暂无成交。"),
    "amount_yuan": ("Amount (yuan)", "金额（元）"),
    "statement": ("Statement", "对账单"),
    "statement_of": ("Statement: {asset}", "对账单：{asset}"),
    "account": ("Account", "账户"),
    "show": ("Show", "显示"),
    "download_csv": ("Download CSV", "下载 CSV"),
    "journal": ("Journal", "凭证"),
    "kind": ("Kind", "类型"),
    "reference": ("Reference", "摘要"),
    "amount": ("Amount", "金额"),
    "balance": ("Balance", "余额"),
    "time": ("Time", "时间"),
    "no_lines": ("No postings.", "无记录。"),
    "page_of": ("Page {page} of {pages} ({total} rows)", "第 {page} / {pages} 页（共 {total} 条）"),
    "previous": ("Previous", "上一页"),
    "next": ("Next", "下一页"),
    "pagination": ("Pages", "分页"),
    "fen_hint": (
        "Tick {tick} yuan, range {floor}–{ceiling} yuan; lot {lot} {unit}.",
        "最小变动价位 {tick} 元，价格区间 {floor}–{ceiling} 元；交易单位 {lot} {unit}。",
    ),
    # regulator console
    "console_title": ("Regulator console", "监管控制台"),
    "markets_and_runs": ("Markets and clearing", "市场与出清"),
    "clear_now": ("Clear now", "立即出清"),
    "clear_market": ("Clear {code} now", "立即出清 {code}"),
    "run_done": ("Clearing run {id} done.", "出清 {id} 已完成。"),
    "run_existing": ("This window was already cleared: run {id}.", "该时段已出清：第 {id} 次。"),
    "allocation": ("Allocation", "初始分配"),
    "allocate": ("Allocate", "分配"),
    "allocated": (
        "Allocated {quantity} {unit} of {market} to {league} (journal {journal}).",
        "已向 {league} 分配 {market} {quantity} {unit}（凭证 {journal}）。",
    ),
    "upload_csv": ("Allocation from a CSV file", "从 CSV 文件批量分配"),
    "csv_file": (
        "CSV file (league,market,quantity[,reference])",
        "CSV 文件（league,market,quantity[,reference]）",
    ),
    "upload_preview": ("Upload and preview", "上传并预览"),
    "deposit": ("Cash deposit", "资金存入"),
    "amount_yuan_field": ("Amount (yuan)", "金额（元）"),
    "deposit_button": ("Deposit", "存入"),
    "deposited": ("Deposited {amount} yuan to {league}.", "已向 {league} 存入 {amount} 元。"),
    "runs_title": ("Clearing runs", "出清记录"),
    "all_markets": ("All markets", "全部市场"),
    "filter": ("Filter", "筛选"),
    "trigger": ("Trigger", "触发方式"),
    "started": ("Started", "开始"),
    "duration_ms": ("Duration (ms)", "耗时（毫秒）"),
    "timings": ("Timings (ms)", "耗时（毫秒）"),
    "run_title": ("Clearing run {id}", "第 {id} 次出清"),
    "snapshot": ("Orders snapshot", "订单快照"),
    "snapshot_sealed": (
        "{n} orders of this snapshot are still in the open book and stay sealed.",
        "快照中 {n} 笔订单仍在订单簿中，保持密封。",
    ),
    "journals": ("Settlement journals", "结算凭证"),
    "no_journals": ("No journals.", "无凭证。"),
    "hashes": ("Hashes", "哈希"),
    "book_hash": ("Book hash", "订单簿哈希"),
    "result_hash": ("Result hash", "结果哈希"),
    "failure": ("Failure", "失败原因"),
    "triggered_by": ("Triggered by", "触发人"),
    "preview_title": ("Allocation upload {id}", "批量分配 {id}"),
    "accepted_rows": ("Accepted rows", "可导入行"),
    "rejected_rows": ("Rejected rows", "拒绝行"),
    "line": ("Line", "行号"),
    "problem": ("Problem", "问题"),
    "confirm_import": ("Allocate the {n} accepted rows", "分配 {n} 条可导入行"),
    "nothing_to_import": ("No row can be allocated.", "没有可分配的行。"),
    "import_title": ("Allocation import {id}", "批量分配执行 {id}"),
    "imported": ("{n} allocations written.", "已写入 {n} 条分配。"),
    # jobs
    "job_status_queued": ("Queued", "排队中"),
    "job_status_running": ("Running", "运行中"),
    "job_status_succeeded": ("Done", "已完成"),
    "job_status_failed": ("Failed", "失败"),
    "job_progress": ("Progress", "进度"),
    "job_refresh": (
        "This page refreshes itself every 2 seconds until the job is done.",
        "任务完成前本页每 2 秒自动刷新。",
    ),
    # auditor
    "audit_title": ("Audit", "审计"),
    "ledger_explorer": ("Ledger explorer", "账本浏览"),
    "since": ("Since (UTC, inclusive)", "起（UTC，含）"),
    "until": ("Until (UTC, exclusive)", "止（UTC，不含）"),
    "reference_prefix": ("Reference starts with", "摘要前缀"),
    "any": ("any", "全部"),
    "postings": ("Postings", "分录"),
    "owner": ("Owner", "所有者"),
    "hash": ("Hash", "哈希"),
    "prev_hash": ("Previous hash", "前一哈希"),
    "chain": ("Chain", "链"),
    "actor": ("Actor", "操作人"),
    "no_journals_found": ("No journals match.", "没有符合条件的凭证。"),
    "verification": ("Verification", "核验"),
    "verify_lead": (
        "Recompute every hash, balance and sum of the ledger, and re-clear recent runs from "
        "their stored order snapshots.",
        "重新计算账本的所有哈希、余额与合计，并用存储的订单快照重放近期出清。",
    ),
    "run_verification": ("Run verification", "开始核验"),
    "verify_title": ("Verification {id}", "核验 {id}"),
    "check": ("Check", "检查项"),
    "result": ("Result", "结果"),
    "pass": ("pass", "通过"),
    "fail": ("FAIL", "未通过"),
    "all_green": ("All checks passed.", "全部检查通过。"),
    "some_red": ("{n} problem(s) found.", "发现 {n} 个问题。"),
    "replays": ("Replays of recent runs", "近期出清重放"),
    "replay_ok": ("matches the record", "与记录一致"),
    "counts": ("{journals} journals, {postings} postings", "{journals} 个凭证，{postings} 条分录"),
    "chain_heads": ("Chain heads (publish these)", "链头（请对外公布）"),
    "exports": ("Exports", "导出"),
    "export_csv": ("Ledger as CSV (one row per posting)", "账本 CSV（每条分录一行）"),
    "export_jsonl": (
        "Ledger as JSON Lines (one journal per line)",
        "账本 JSON Lines（每行一个凭证）",
    ),
    "recent_verifications": ("Recent verifications", "近期核验"),
    "error_title": ("Error {status}", "错误 {status}"),
    "error_forbidden": ("You may not open this page.", "您无权访问此页面。"),
    "back_home": ("Back to the markets", "返回市场"),
    "check_journal_hash": ("Journal hashes", "凭证哈希"),
    "check_chain_link": ("Chain links", "链接"),
    "check_chain_gap": ("No gaps in chains", "链无缺号"),
    "check_chain_duplicate": ("No duplicates in chains", "链无重号"),
    "check_chain_head": ("Chain heads", "链头"),
    "check_orphan_posting": ("No orphan postings", "无孤立分录"),
    "check_unknown_account": ("Known accounts", "账户存在"),
    "check_empty_journal": ("No empty journals", "无空凭证"),
    "check_unbalanced_journal": ("Journals balance", "凭证借贷平衡"),
    "check_balance": ("Balances = sum of postings", "余额 = 分录合计"),
    "check_negative_balance": ("No negative balances", "无负余额"),
    "check_hold": ("Holds", "冻结"),
    "check_escrow": ("Escrow = open holds", "托管 = 未释放冻结"),
    "check_conservation": ("Conservation (issued = held)", "总量守恒（发行 = 持有）"),
    "check_clearing_not_flat": ("Clearing account flat", "清算账户归零"),
    "check_replay": ("Replay of run {id}", "重放第 {id} 次出清"),
}


def language() -> str:
    """The language of the current request."""
    lang: str | None = g.get("lang")
    if lang is None:
        asked = request.args.get("lang")
        if asked in LANGUAGES:
            lang = asked
            g.set_lang_cookie = asked
        else:
            cookie = request.cookies.get(COOKIE)
            if cookie in LANGUAGES:
                lang = cookie
            else:
                best = request.accept_languages.best_match(["en", "zh", "zh-CN"])
                lang = "zh" if best and best.startswith("zh") else DEFAULT_LANGUAGE
        g.lang = lang
    return lang


def t(key: str, **values: object) -> str:
    """The label ``key`` in the current language, formatted with ``values``."""
    en, zh = LABELS[key]
    text = zh if language() == "zh" else en
    return text.format(**values) if values else text


def _remember_language(response: Response) -> Response:
    chosen = g.get("set_lang_cookie")
    if chosen:
        response.set_cookie(
            COOKIE,
            chosen,
            max_age=COOKIE_MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
            path="/",
        )
    return response


def merge_lang(args: dict[str, str], lang: str) -> str:
    """The query string of ``args`` with ``lang`` set (for the language switch links)."""
    return urlencode({**{k: v for k, v in args.items() if k != "lang"}, "lang": lang})


def init_i18n(app: Flask) -> None:
    """``t`` and ``lang`` in every template; the ``lang`` cookie set on ``?lang=``."""

    @app.context_processor
    def _i18n() -> dict[str, object]:
        return {"t": t, "lang": language(), "languages": LANGUAGES}

    app.add_template_filter(merge_lang, "merge_lang")
    app.after_request(_remember_language)
