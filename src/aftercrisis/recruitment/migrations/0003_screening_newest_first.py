from django.db import migrations, models


class Migration(migrations.Migration):
    """The screening log's order as an index, so that its newest page is read rather than every screening
    sorted."""

    dependencies = [
        ("recruitment", "0001_squashed_0002_screened_count_in_range"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="screening",
            index=models.Index(fields=["-screened_on", "-id"], name="screening_newest_first"),
        ),
    ]
