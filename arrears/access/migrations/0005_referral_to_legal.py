"""Referrals move to the legal part: the table is renamed `legal_referral`, rows kept, and the
model leaves access's state (`legal.0001_initial` takes it into legal's)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("access", "0004_audit_log_indexes")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterModelTable(name="referral", table="legal_referral"),
            ],
            state_operations=[migrations.DeleteModel(name="referral")],
        ),
    ]
