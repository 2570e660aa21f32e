"""Consent to texts and autodialled calls, granted and withdrawn from the desk.

47 USC §227(b)(1)(A)(iii): a call to a cell phone made with an automatic telephone dialing
system or an artificial or prerecorded voice, a text included, needs the called party's prior
express consent. The FCC's one-to-one consent rule (47 CFR §64.1200(f)(9)) has it given to one
caller, for what the party agreed to word for word; its revocation rule (47 CFR
§64.1200(a)(10)) lets the party withdraw it by any reasonable means, honoured within 10
business days at most: here at once.

Invariants:
- a grant says when, how (written, verbal, web), by whom it was taken and the words agreed to;
  a withdrawal says when and how;
- consent rows are only added; the latest per channel wins (the guard reads it so: `guard`);
- each grant or withdrawal writes a `consent.granted` / `consent.withdrawn` row on the
  timeline of every account of the party, in the same transaction.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from arrears.core.dates import now
from arrears.core.errors import NotFoundError, ValidationError
from arrears.dunning.models import Consent
from arrears.ledger.models import Party, TimelineEvent

CONSENT_CHANNELS = ("sms", "autodial")
GRANT_WAYS = ("written", "verbal", "web")
WITHDRAW_WAYS = ("written", "verbal", "web", "reply")
WORDS_LIMIT = 2000


def _checked(channel: str, how: str, ways: tuple[str, ...], at: datetime) -> None:
    if channel not in CONSENT_CHANNELS:
        raise ValidationError(
            _("consent is recorded for {choices}, not {channel!r}"),
            code="consent_channel_unknown",
            field="channel",
            channel=channel,
            choices=", ".join(CONSENT_CHANNELS),
        )
    if how not in ways:
        raise ValidationError(
            _("how it was given is one of {choices}, not {how!r}"),
            code="consent_how_unknown",
            field="how",
            how=how,
            choices=", ".join(ways),
        )
    if at.tzinfo is None or at > max(now(), dj_timezone.now()):
        raise ValidationError(
            _("consent is recorded when it was given, not in the future"),
            code="consent_in_future",
            field="at",
        )


@transaction.atomic
def consent_record(
    *,
    party_id: str,
    channel: str,
    granted: bool,
    how: str,
    words: str,
    actor: str,
    on: date,
    at: datetime | None = None,
) -> Consent:
    """Record a grant (`granted`) or a withdrawal of consent to `channel` (sms, autodial) at
    `at` (now), with how it was given and the words. Raises NotFoundError (no such party) or
    ValidationError (an unknown channel or way, a grant without the words agreed to, a time
    in the future)."""
    at = at or now()
    words = words.strip()[:WORDS_LIMIT]
    _checked(channel, how, GRANT_WAYS if granted else WITHDRAW_WAYS, at)
    if granted and not words:
        raise ValidationError(
            _("a consent needs the words the party agreed to"),
            code="consent_words_missing",
            field="words",
        )
    party = Party.objects.filter(party_id=party_id).first()
    if party is None:
        raise NotFoundError(_("no party {party_id!r}"), code="party_not_found", party_id=party_id)
    consent = Consent.objects.create(
        party=party,
        channel=channel,
        granted=granted,
        at=at,
        source=f"{how} ({actor})"[:200],
        how=how,
        words=words,
        recorded_by=actor,
    )
    what = {"sms": "texts", "autodial": "autodialled calls"}[channel]
    verb = "granted" if granted else "withdrew"
    summary = f"{party.party_id} {verb} consent to {what} ({how})"
    for account_pk in (
        party.account_parties.values_list("account_id", flat=True).distinct().order_by("account_id")
    ):
        TimelineEvent.objects.create(
            account_id=account_pk,
            at=dj_timezone.now(),
            on=on,
            kind="consent.granted" if granted else "consent.withdrawn",
            actor=actor,
            summary=summary[:500],
            detail={
                "party_id": party.party_id,
                "channel": channel,
                "how": how,
                "words": words,
                "given_at": at.isoformat(),
            },
        )
    return consent


def consents_from_import(*, actor: str, on: date) -> int:
    """Record the consent that parties.csv's `x_consent_sms` / `x_consent_autodial` cells say
    (the interchange's documented `x_` extension: `ledger.interchange.consent`), as the import
    left them in the parties' custom attributes. A cell already recorded (the same word, day and
    way as the latest row of its channel) is not recorded again, so a re-import adds nothing.
    Returns how many consent rows were written."""
    from django.db.models import Q

    from arrears.core.dates import book_zone
    from arrears.ledger.interchange.consent import CONSENT_COLUMNS, parse_consent

    wanted = Q()
    for column in CONSENT_COLUMNS:
        wanted |= Q(extra__has_key=column)
    written = 0
    for party in Party.objects.filter(wanted).order_by("party_id"):
        latest = {c.channel: c for c in Consent.objects.filter(party=party).order_by("at", "id")}
        for column in CONSENT_COLUMNS:
            cell = parse_consent(column, str(party.extra.get(column) or ""))
            if cell is None:
                continue
            at = datetime.combine(cell.on, datetime.min.time(), tzinfo=book_zone())
            seen = latest.get(cell.channel)
            if seen is not None and (seen.granted, seen.at, seen.how) == (
                cell.granted,
                at,
                cell.how,
            ):
                continue
            consent_record(
                party_id=party.party_id,
                channel=cell.channel,
                granted=cell.granted,
                how=cell.how,
                words=cell.words,
                actor=actor,
                on=on,
                at=at,
            )
            written += 1
    return written
