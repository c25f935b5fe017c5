"""Every hint segscope takes from a column's name, in one place: the values decide a column's
role and measure, a name only hints (a key, a code, an amount, a rating, a join date)."""

from __future__ import annotations

import re

CODE_SUFFIX = re.compile(r"([ _-]?(id|code|cd|no|nr|key)|(?<=[a-z])(Id|ID|Code|No|Nr|Key))$", re.I)
AMOUNT_PATTERN = re.compile(r"amount|value|spend|revenue|sales|total|paid|cost", re.I)
QUANTITY_PATTERN = re.compile(r"qty|quantit|items|units|number_of|count|volume", re.I)
AVERAGE_PATTERN = re.compile(  # levels: averaged, never summed
    r"year|rating|score|stars|grade|rank|age$|percent|pct|ratio|price|avg|average|mean|per_", re.I
)
PURCHASE_PATTERN = re.compile(
    r"transaction|order|purchase|sale|invoice|payment|coupon|basket", re.I
)
BURN_PATTERN = re.compile(r"burn|redeem|used|claimed|converted", re.I)
JOIN_PATTERN = re.compile(r"join|signup|sign_up|regist|created|first|since", re.I)
MEANING_NAMES = {  # behaviour meaning of a flat table's column, from its name
    "recency": re.compile(r"recency|days_since_last|since_last|last_(visit|purchase|order)", re.I),
    "frequency": re.compile(r"frequency|visits|orders|purchases|transactions", re.I),
    "monetary": re.compile(r"monetary|spend|spent|revenue|sales", re.I),
    "burn_rate": re.compile(r"(burn|redeem|redemption|coupon).*rate", re.I),
}


OUTCOME_NAME = re.compile(  # what segments are later measured against, not made from
    r"^(attrition|attrited|churn|churned|default|defaulted|death|died|dead|deceased|censored?|"
    r"survived|outcome|target|denied|deny|cancell?ed|is_cancell?ed|converted)$",
    re.IGNORECASE,
)
COUNT_NAME = re.compile(
    r"count|number_of|num_|^n_|qty|quantit|amount|total|sum|age|year|days|size|length|"
    r"duration|score|rate|price|income|spend|salary|balance|minutes|calls|visits|orders",
    re.IGNORECASE,
)


KEY_PATTERN = re.compile(
    r"^(customer|cust|client|user|member|account|shopper|buyer)[ _-]?(id|no|nr|number|key|code)?$",
    re.IGNORECASE,
)


ENTITY_NAME = re.compile(  # a column named as the identifier of what the rows are about
    r"(^|[ _.-])(id|nr|no|key|uid|uuid)$|^(id|nr|uid|uuid|idno|seqn|hhid|pid)$"
    r"|(?<=[a-z])(Id|ID|Nr|No|Key)$|(?<=[a-z])id$"
    r"|^(subject|patient|person|household|respondent|participant|player)s?([ _.-]?(id|nr|no))?$",
    re.IGNORECASE,
)
IDENTIFIER_NAME = re.compile(  # ... or of each row (an order, a line, a record)
    ENTITY_NAME.pattern + r"|(^|[ _.-])(num|number|code|seq|ref)$|(?<=[a-z])(Num|Number|Ref|num)$",
    re.IGNORECASE,
)
CODE_PATTERN = re.compile(
    r"(^|[ _-])(id|code|cd|no|nr|key|type|cat|category|class|group|zip|postcode"
    r"|zone|region|district|dept|precinct|branch|store|station)$",
    re.I,
)


CAMEL_CODE = re.compile(  # movieId, stationID, zipCode, policePrecinct (never 'gestation')
    r"[a-z](Id|ID|Code|No|Nr|Key|Type|Zone|Region|District|Dept|Precinct|Branch|Store|Station)$"
)


def is_code_name(name: str) -> bool:
    """A name that says the column holds codes or identifiers (city_id, movieId, zip)."""
    return bool(CODE_PATTERN.search(name) or CAMEL_CODE.search(name))
