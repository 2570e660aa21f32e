"""The account's record kept up to date (the access part's acts_record): `arrears party update`,
`arrears consent grant|withdraw` and `arrears document add`."""

from __future__ import annotations

import argparse
from typing import Any

from arrears.cli.acting import by
from arrears.cli.common import command, ensure_migrated

CONTACT_OPTIONS = (
    ("email", "the email address (empty: none)"),
    ("phone", "the phone number, E.164 or as typed in the US: (347) 555-0113"),
    ("address", "the street line(s) of the mailing address"),
    ("city", "the mailing address's city"),
    ("state", "the mailing address's state"),
    ("postal_code", "the mailing address's ZIP or postal code"),
    ("country", "the mailing address's country (ISO 3166-1 alpha-2)"),
    ("language", "the party's language (BCP 47: en, es)"),
    ("timezone", "the party's time zone (IANA: America/New_York)"),
)


def cmd_party(args: argparse.Namespace) -> int:
    from arrears.access import acts

    ensure_migrated()
    changes = {name: getattr(args, name) for name, _help in CONTACT_OPTIONS}
    done = acts.party_update(by=by(args), party_id=args.party_id, changes=changes)
    if not done.changed:
        print(f"Nothing changed on {args.party_id}.")
        return 0
    for name, (old, new) in done.changed.items():
        print(f"{args.party_id} {name}: {old or '(none)'} -> {new or '(none)'}")
    if done.returned_mail_cleared:
        print("The new address is tried again: mail came back from the old one.")
    return 0


def cmd_consent(args: argparse.Namespace) -> int:
    from arrears.access import acts

    ensure_migrated()
    act = acts.consent_grant if args.consent_command == "grant" else acts.consent_withdraw
    consent = act(
        by=by(args),
        party_id=args.party_id,
        channel=args.channel,
        how=args.how,
        words=args.words or "",
    )
    verb = "granted" if consent.granted else "withdrawn"
    print(f"Consent of {args.party_id} to {args.channel} {verb} ({args.how}).")
    return 0


def _party_parser(sub: Any) -> None:
    help = "a party's contact points: mailing address, email, phone, language, time zone"
    p = command(sub, "party", cmd_party, help)
    party_sub = p.add_subparsers(dest="party_command", required=True, metavar="ACTION")
    q = party_sub.add_parser("update", help="change contact points (the old ones are kept)")
    q.add_argument("party_id")
    for name, text in CONTACT_OPTIONS:
        q.add_argument("--" + name.replace("_", "-"), dest=name, help=text)


def _consent_parser(sub: Any) -> None:
    help = "consent to texts and autodialled calls (47 USC §227): grant or withdraw"
    p = command(sub, "consent", cmd_consent, help)
    consent_sub = p.add_subparsers(dest="consent_command", required=True, metavar="ACTION")
    for action, ways, text in (
        ("grant", ("written", "verbal", "web"), "record a party's consent"),
        ("withdraw", ("written", "verbal", "web", "reply"), "record its withdrawal"),
    ):
        q = consent_sub.add_parser(action, help=text)
        q.add_argument("party_id")
        q.add_argument("--channel", required=True, choices=["sms", "autodial"])
        q.add_argument("--how", required=True, choices=list(ways), help="how it was given")
        q.add_argument("--words", help="the words agreed to (or said), word for word")


PARSERS = {"party": _party_parser, "consent": _consent_parser}


def cmd_document(args: argparse.Namespace) -> int:
    from pathlib import Path

    from arrears.access import acts
    from arrears.correspondence.uploads import max_upload_bytes

    ensure_migrated()
    path = Path(args.file)
    with path.open("rb") as stream:
        data = stream.read(max_upload_bytes() + 1)
    added = acts.document_add(
        by=by(args),
        account_id=args.account_id,
        data=data,
        filename=path.name,
        title=args.title,
        kind=args.kind,
    )
    d = added.document
    if added.event is None:
        print(f"{path.name} is on {args.account_id}'s history already: {d.name}")
    else:
        print(f"Added to {args.account_id}: {d.name} ({d.content_type}, sha256 {d.sha256})")
    return 0


def _document_parser(sub: Any) -> None:
    help = "add a document to an account's history (PDF, PNG or JPEG image, .eml email)"
    p = command(sub, "document", cmd_document, help)
    document_sub = p.add_subparsers(dest="document_command", required=True, metavar="ACTION")
    q = document_sub.add_parser("add", help=help)
    q.add_argument("account_id")
    q.add_argument("file")
    q.add_argument("--title", required=True, help="what it is: a signed lease, a proof of service")
    q.add_argument(
        "--kind",
        default="other",
        metavar="KIND",
        help="what the referral checklist takes it for: lease, proof_of_service, "
        "proof_of_mailing, rent_demand, late_rent_notice, registration… (default other)",
    )


PARSERS["document"] = _document_parser
