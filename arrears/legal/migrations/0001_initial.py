"""Referrals, moved here from access with their rows: the table `legal_referral` is made by
`access.0005_referral_to_legal` (renamed from `access_referral`); this only takes the model into
legal's state."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("access", "0005_referral_to_legal"),
        ("ledger", "0004_period_event"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="Referral",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("firm", models.CharField(max_length=100)),
                        ("referred_on", models.DateField()),
                        ("referred_by", models.CharField(max_length=150)),
                        ("note", models.CharField(blank=True, max_length=500)),
                        ("withdrawn_on", models.DateField(blank=True, null=True)),
                        ("account", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="referrals", to="ledger.account")),
                    ],
                    options={
                        "indexes": [models.Index(fields=["firm", "account"], name="referral_firm_account")],
                        "constraints": [models.UniqueConstraint(condition=models.Q(("withdrawn_on__isnull", True)), fields=("account", "firm"), name="referral_open_once_per_firm")],
                    },
                ),
            ],
        ),
    ]
