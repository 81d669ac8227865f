# Stored messages keep their msgid and parameters next to their English text, so that they
# are translated when shown, in the viewer's language (wagtail_kollus.messages). Only columns
# are added: existing rows keep their text and show it as it is.
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('wagtail_kollus', '0005_scale_indexes_rollups_categories'),
    ]

    operations = [
        migrations.AddField(
            model_name='callbackdelivery',
            name='error_message_i18n',
            field=models.JSONField(blank=True, default=dict, editable=False),
        ),
        migrations.AddField(
            model_name='kollusmedia',
            name='error_message_i18n',
            field=models.JSONField(blank=True, default=dict, editable=False),
        ),
        migrations.AddField(
            model_name='pagecontentlink',
            name='last_error_i18n',
            field=models.JSONField(blank=True, default=dict, editable=False),
        ),
    ]
