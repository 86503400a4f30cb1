"""Pure matching engine: uniform-price call auctions, zonal clearing with transfer limits and
losses, and joint clearing of several markets with bundle orders.

No I/O, no clock, no randomness: the same book and rules give the same result, bit for bit.
See docs/matching.md for the rules.
"""

from ._bundle import Bundle, BundleLeg, BundleResult, JointResult
from ._canon import (
    book_hash,
    book_to_json,
    canonical_bytes,
    result_hash,
    result_to_json,
    rules_to_json,
)
from ._clear import ArrayResult, Book, clear, clear_book, curves, validate, validate_book
from ._joint import clear_joint, joint_surplus
from ._joint_io import joint_book_hash, joint_book_to_json, joint_result_hash, joint_result_to_json
from ._stability import (
    CCR_ID,
    ECR_ID,
    INSUFFICIENT_COVER,
    PRICE_BELOW_REFERENCE,
    Cancellation,
    Stability,
    StableResult,
    clear_stable,
    stability_from_json,
    stability_to_json,
    stable_book_hash,
    stable_book_to_json,
    stable_result_hash,
    stable_result_to_json,
)
from ._types import (
    MAX_LOSS,
    MAX_PRICE,
    MAX_QUANTITY,
    ClearingResult,
    Curves,
    Fill,
    Flow,
    InvalidBook,
    Link,
    Order,
    Rules,
    Side,
)

__all__ = [
    "CCR_ID",
    "ECR_ID",
    "INSUFFICIENT_COVER",
    "MAX_LOSS",
    "MAX_PRICE",
    "MAX_QUANTITY",
    "PRICE_BELOW_REFERENCE",
    "ArrayResult",
    "Book",
    "Bundle",
    "BundleLeg",
    "BundleResult",
    "Cancellation",
    "ClearingResult",
    "Curves",
    "Fill",
    "Flow",
    "InvalidBook",
    "JointResult",
    "Link",
    "Order",
    "Rules",
    "Side",
    "Stability",
    "StableResult",
    "book_hash",
    "book_to_json",
    "canonical_bytes",
    "clear",
    "clear_book",
    "clear_joint",
    "clear_stable",
    "curves",
    "joint_book_hash",
    "joint_book_to_json",
    "joint_result_hash",
    "joint_result_to_json",
    "joint_surplus",
    "result_hash",
    "result_to_json",
    "rules_to_json",
    "stability_from_json",
    "stability_to_json",
    "stable_book_hash",
    "stable_book_to_json",
    "stable_result_hash",
    "stable_result_to_json",
    "validate",
    "validate_book",
]
