# The lock moved to aftercrisis.lock, which keeps this table.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("reporting", "0002_report_snapshot"),
        ("lock", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="DatabaseLockEvent")],
        ),
    ]
