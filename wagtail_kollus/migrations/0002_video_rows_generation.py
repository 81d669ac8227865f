# The counter that tells every process when its copy of the video rows is stale
# (wagtail_kollus.video_cache). Always one row, id 1.

from django.db import migrations, models


def create_counter(apps, schema_editor):
    generation = apps.get_model("wagtail_kollus", "VideoRowsGeneration")
    generation.objects.using(schema_editor.connection.alias).get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_kollus", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="VideoRowsGeneration",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("value", models.BigIntegerField(default=0)),
            ],
            options={
                "default_permissions": (),
            },
        ),
        migrations.RunPython(create_counter, migrations.RunPython.noop),
    ]
