"""Jurisdictions and the rules of their laws, as versioned data (see docs/jurisdictions.md).

`Jurisdiction` is the one vocabulary for where a person is; `rules_for` gives the rule pack a
request gets; the `*_due` functions decide its dates.
"""

from rightful.laws.deadlines import (
    OPT_OUT_KINDS,
    acknowledge_due,
    add_months,
    answer_due,
    appeal_answer_due,
    appeal_answer_extended_due,
    appeal_window_ends,
    extended_due,
    is_working_day,
    local_date,
    next_working_day,
    opt_out_due,
    period_end,
    respond_due,
    rules_for,
)
from rightful.laws.jurisdictions import (
    Jurisdiction,
    all_jurisdictions,
    choices,
    codes,
    is_known,
    parse,
)
from rightful.laws.packs import all_packs, pack, read_pack, read_packs
from rightful.laws.rules import (
    KINDS,
    Appeal,
    Count,
    Extension,
    Period,
    Place,
    Regulator,
    Rights,
    Rule,
    RulePack,
    RulesMode,
)
from rightful.laws.service import RightsScope, granted_by_law, regulator_for

__all__ = [
    "KINDS",
    "OPT_OUT_KINDS",
    "Appeal",
    "Count",
    "Extension",
    "Jurisdiction",
    "Period",
    "Place",
    "Regulator",
    "Rights",
    "RightsScope",
    "Rule",
    "RulePack",
    "RulesMode",
    "acknowledge_due",
    "add_months",
    "all_jurisdictions",
    "all_packs",
    "answer_due",
    "appeal_answer_due",
    "appeal_answer_extended_due",
    "appeal_window_ends",
    "choices",
    "codes",
    "extended_due",
    "granted_by_law",
    "is_known",
    "is_working_day",
    "local_date",
    "next_working_day",
    "opt_out_due",
    "pack",
    "parse",
    "period_end",
    "read_pack",
    "read_packs",
    "regulator_for",
    "respond_due",
    "rules_for",
]
