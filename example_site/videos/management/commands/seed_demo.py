"""``manage.py seed_demo``: the example site's admin user, its pages built from what the sandbox
(or your real contents API) holds, and its video library copied from Kollus. Idempotent:
running it again updates the same pages, admin user and library rows."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from wagtail.models import Page, Site
from wagtail.users.models import UserProfile

from videos.models import CachedVideoPage, CoursePage, HomePage, VideoPage
from wagtail_kollus.accounts import contents_client
from wagtail_kollus.api.errors import KollusAPIError
from wagtail_kollus.chooser.copying import copy_item_to_video
from wagtail_kollus.conf import kollus_settings
from wagtail_kollus.media.importing import import_library


class Command(BaseCommand):
    help = "Create the admin user, the example pages (contents API) and the video library (Kollus)."

    def add_arguments(self, parser):
        parser.add_argument("--admin-password", default="changeme")
        parser.add_argument("--videos", type=int, default=4, help="videos to put on the pages")
        parser.add_argument(
            "--library", type=int, default=200,
            help="Kollus media to copy into the video library (0: none)",
        )

    def handle(self, *args, **options):
        self._admin(options["admin_password"])
        home = self._home()
        try:
            videos = self._videos(options["videos"])
            library = import_library(limit=options["library"]) if options["library"] else 0
        except KollusAPIError as exc:
            raise CommandError(f"The contents or Kollus API is not reachable: {exc}") from None
        if not videos:
            raise CommandError("The contents API has no VOD content with Kollus videos.")
        self._page(home, VideoPage, "videos", "Kollus videos", videos)
        self._page(home, CachedVideoPage, "cached-videos", "Cached page (cache-safe players)",
                   videos[:2])
        course = self._page(home, CoursePage, "course", "Course synced to the shop", videos,
                            intro="<p>Publishing this page updates its content record.</p>",
                            base_price=39000, image=self._image())
        # Compliance training: the player draws the viewer's e-mail address (their viewer id
        # when anonymous) and nobody skips ahead past the first 30 seconds.
        self._page(home, VideoPage, "compliance-lesson", "Compliance lesson (watermark, no skipping)",
                   videos[:1], block_options={"no_skip": True, "seekable_end": 30,
                                              "watermark": "email"})
        self.stdout.write(self.style.SUCCESS(
            f"Seeded {len(videos)} videos on 4 pages (course page id {course.pk}); "
            f"{library} Kollus videos in the library."
        ))

    def _admin(self, password: str) -> None:
        User = get_user_model()
        user, _ = User.objects.get_or_create(
            username="admin", defaults={"email": "admin@example.com"}
        )
        user.is_staff = user.is_superuser = True
        # Wagtail's account form requires a name: without one, the admin could not even save
        # a change of language.
        user.first_name = user.first_name or "Demo"
        user.last_name = user.last_name or "Admin"
        user.set_password(password)
        user.save()
        # The site's language is Korean (LANGUAGE_CODE); the admin starts in English unless
        # someone chose otherwise in Account → Preferences (kept across re-seeds).
        profile = UserProfile.get_for_user(user)
        if not profile.preferred_language:
            profile.preferred_language = "en"
            profile.save(update_fields=["preferred_language"])

    def _home(self) -> HomePage:
        home = HomePage.objects.first()
        if home is None:
            root = Page.get_first_root_node()
            home = root.add_child(instance=HomePage(title="wagtail-kollus example", slug="home-kollus"))
            home.save_revision().publish()
        # The site's address is the one the demo serves at, so that full URLs (the API's
        # detail_url, sitemaps, previews) name it rather than Wagtail's default localhost:80.
        served = urlsplit(settings.WAGTAILADMIN_BASE_URL)
        address = {"hostname": served.hostname or "localhost", "port": served.port or 80}
        site = Site.objects.filter(is_default_site=True).first()
        if site is None:
            Site.objects.create(root_page=home, is_default_site=True, **address)
        elif (site.root_page_id, site.hostname, site.port) != (home.pk, *address.values()):
            site.root_page = home
            site.hostname, site.port = address["hostname"], address["port"]
            site.save()
        return home

    def _image(self):
        """A generated cover image: the course's ``featured_image`` on the contents site."""
        from io import BytesIO

        from django.core.files.images import ImageFile
        from PIL import Image as PILImage
        from wagtail.images import get_image_model

        Image = get_image_model()
        existing = Image.objects.filter(title="Example course cover").first()
        if existing:
            return existing
        buffer = BytesIO()
        PILImage.new("RGB", (1280, 720), (33, 102, 172)).save(buffer, "PNG")
        return Image.objects.create(
            title="Example course cover", file=ImageFile(buffer, name="course-cover.png")
        )

    def _videos(self, wanted: int) -> list:
        client = contents_client()
        language = kollus_settings.DEFAULT_LANGUAGE
        videos = []
        page = client.list_contents(content_type="vod", status="publish", language=language,
                                    limit=50)
        for content in page.items:
            for chapter in content.chapters:
                for item in chapter.items:
                    key = item.kollus_media_content_key
                    if key and "<" not in content.title:
                        videos.append(copy_item_to_video(
                            content, chapter, item, language=language, media_content_key=key
                        ))
                        break
                if len(videos) >= wanted:
                    return videos
        return videos

    def _page(self, home, model, slug, title, videos, block_options=None, **fields):
        page = model.objects.filter(slug=slug).first()
        body = []
        for index, video in enumerate(videos):
            if model is CoursePage and index % 2 == 0:
                body.append({"type": "heading", "value": f"Chapter {index // 2 + 1}"})
            body.append({"type": "video", "value": {
                "video": video.pk, "autoplay": False, "mute": False, "start_time": 0,
                "allow_seek": True, "disable_playrate": False, "title_override": "",
                **(block_options or {}),
            }})
        if page is None:
            page = model(title=title, slug=slug, **fields)
            page.body = json.dumps(body)
            home.add_child(instance=page)
        else:
            page.title = title
            page.body = json.dumps(body)
            for name, value in fields.items():
                setattr(page, name, value)
        page.save_revision().publish()
        return page
