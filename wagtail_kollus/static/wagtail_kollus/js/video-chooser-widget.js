/* The chosen-video widget: Wagtail's chooser widget, plus the video's poster, a details line
   and a "Preview video" link (wagtail_kollus/chooser/widget.html).

   Modelled on Wagtail's ImageChooser (ImageChooserWidget.js): a subclass of window.Chooser
   (wagtailadmin/js/chooser-widget.js) that reads and renders the extra state, and, for
   StreamField, a subclass of the chooser factory Wagtail registers with telepath. Everything
   else (the modal, choosing, clearing, the hidden input) is Wagtail's own code. */
(function () {
    'use strict';

    if (!window.Chooser) {
        return;
    }

    class KollusVideoChooser extends window.Chooser {
        initHTMLElements(id) {
            super.initHTMLElements(id);
            this.posterImage = this.chooserElement.querySelector('[data-chooser-image]');
            this.noPoster = this.chooserElement.querySelector('[data-chooser-no-image]');
            this.detailsElement = this.chooserElement.querySelector('[data-chooser-details]');
            this.previewLink = this.chooserElement.querySelector('[data-chooser-preview-link]');
        }

        getStateFromHTML() {
            const state = super.getStateFromHTML();
            if (state) {
                const url = this.posterImage && !this.posterImage.hidden
                    ? this.posterImage.getAttribute('src') : '';
                state.preview = url ? {
                    url: url,
                    width: this.posterImage.getAttribute('width'),
                    height: this.posterImage.getAttribute('height'),
                } : null;
                state.details = this.detailsElement ? this.detailsElement.textContent : '';
                state.preview_url = this.previewLink ? this.previewLink.getAttribute('href') : '';
            }
            return state;
        }

        renderState(state) {
            super.renderState(state);
            const preview = state.preview || null;
            if (this.posterImage) {
                this.posterImage.hidden = !preview;
                if (preview) {
                    this.posterImage.setAttribute('src', preview.url);
                    this.posterImage.setAttribute('width', preview.width);
                    this.posterImage.setAttribute('height', preview.height);
                } else {
                    this.posterImage.removeAttribute('src');
                }
            }
            if (this.noPoster) {
                this.noPoster.hidden = Boolean(preview);
            }
            if (this.detailsElement) {
                this.detailsElement.textContent = state.details || '';
            }
            if (this.previewLink) {
                if (state.preview_url) {
                    this.previewLink.setAttribute('href', state.preview_url);
                    this.previewLink.hidden = false;
                } else {
                    this.previewLink.hidden = true;
                }
            }
        }
    }

    window.KollusVideoChooser = window.KollusVideoChooser || KollusVideoChooser;

    // StreamField: Wagtail's factory (registered by chooser-widget-telepath.js), building ours.
    const name = 'wagtail_kollus.widgets.KollusVideoChooser';
    const telepath = window.telepath;
    const constructors = telepath && telepath.constructors ? telepath.constructors : {};
    const ChooserFactory = constructors['wagtail.admin.widgets.Chooser'];
    if (ChooserFactory && !constructors[name]) {
        class KollusVideoChooserFactory extends ChooserFactory {
            widgetClass = window.KollusVideoChooser;
        }
        telepath.register(name, KollusVideoChooserFactory);
    }
})();
