"""The firms already named, by referrals and by attorneys' profiles, become firms: a referral
now names a firm that exists, and the book's older referrals keep theirs (a law firm, no fee
terms until a user sets them)."""

from datetime import date

from django.db import migrations


def firms_known(apps, schema_editor):  # type: ignore[no-untyped-def]
    Firm = apps.get_model("legal", "Firm")
    Referral = apps.get_model("legal", "Referral")
    Profile = apps.get_model("access", "Profile")
    names = set(Referral.objects.values_list("firm", flat=True))
    names |= set(Profile.objects.exclude(firm="").values_list("firm", flat=True))
    have = set(Firm.objects.values_list("name", flat=True))
    Firm.objects.bulk_create(
        Firm(name=name, kind="law", created_on=date.today()) for name in sorted(names - have)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("legal", "0002_cases"),
        ("access", "0007_assignments_and_coverage"),
    ]

    operations = [migrations.RunPython(firms_known, migrations.RunPython.noop)]
