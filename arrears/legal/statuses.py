"""A case's statuses as codes (pure: the command line's parser reads them before Django is set
up; `models.CASE_STATUSES` words them)."""

from __future__ import annotations

# In the order a case usually goes through them. `prepared`: the case file is built but not sent
# (something is missing); `sent`: the case file went to the firm.
STATUSES = (
    "prepared",
    "sent",
    "accepted",
    "filed",
    "hearing",
    "judgment",
    "warrant",
    "possession",
    "settled",
    "satisfied",
    "closed",
    "recalled",
)
# The statuses an update may give (`prepared` and `sent` are the referral's own).
UPDATES = STATUSES[2:]
# A case that reaches one of these has left the firm's hands: its hold is released.
ENDED = ("closed", "recalled")
# Statuses about money: a paralegal records the others (the "may not change money").
MONEY_STATUSES = ("judgment", "settled", "satisfied")
