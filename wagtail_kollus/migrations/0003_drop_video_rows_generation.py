# Rendering no longer keeps per-process copies of the video rows, so the counter that told
# every process when its copy was stale (0002) is gone. Every write to video and media rows
# used to update its one row, which made all writers queue behind each other.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_kollus", "0002_video_rows_generation"),
    ]

    operations = [
        migrations.DeleteModel(
            name="VideoRowsGeneration",
        ),
    ]
