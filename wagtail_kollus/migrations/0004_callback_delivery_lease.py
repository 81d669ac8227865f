# Callback deliveries get the lease every claimed piece of work has (wagtail_kollus.leases).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('wagtail_kollus', '0003_drop_video_rows_generation'),
    ]

    operations = [
        migrations.AddField(
            model_name='callbackdelivery',
            name='attempts',
            field=models.PositiveIntegerField(default=0, verbose_name='attempts'),
        ),
        migrations.AddField(
            model_name='callbackdelivery',
            name='claim_token',
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name='callbackdelivery',
            name='claimed_by',
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.AddField(
            model_name='callbackdelivery',
            name='claimed_until',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='callbackdelivery',
            name='next_attempt_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='next attempt'),
        ),
        migrations.AddIndex(
            model_name='callbackdelivery',
            index=models.Index(fields=['status', 'next_attempt_at'], name='kollus_callback_due_idx'),
        ),
    ]
