/*
 * wagtail-kollus cache-safe playback (no dependencies, no inline script, CSP-friendly).
 *
 * A cache-safe player is rendered as
 *   <div data-kollus-player data-kollus-reference="…" data-kollus-token-url="…">
 *     <iframe class="kollus-player__frame" …></iframe></div>
 * with no token in the HTML. When the player comes near the viewport this script asks the
 * token endpoint for a player URL minted for the current viewer and puts it in the iframe.
 *
 * Refreshing (see docs/player.md): a token is only needed when the player page loads, so the
 * script re-fetches before it expires *only* while the player has not started. Once the
 * viewer has interacted with the player (focus moved into the iframe) or the player autoplays,
 * the iframe is never reloaded, so playback is never interrupted. A player that is off screen
 * or in a background tab when its token ages is refreshed when it is seen again.
 *
 * The file may be included once per player: it initialises each element only once.
 */
(function () {
  "use strict";

  if (window.wagtailKollusPlayer) {
    window.wagtailKollusPlayer.scan();
    return;
  }

  var MAX_REFRESH_MARGIN = 30; // seconds before expiry at which an unstarted player refreshes
  var MAX_RETRIES = 3;
  var players = [];

  function Player(element) {
    this.element = element;
    this.iframe = element.querySelector("iframe");
    this.tokenUrl = element.getAttribute("data-kollus-token-url");
    this.reference = element.getAttribute("data-kollus-reference");
    this.autoplay = element.hasAttribute("data-kollus-autoplay");
    this.started = false;
    this.visible = false;
    this.stale = true; // true while the iframe has no fresh URL
    this.loading = false;
    this.failures = 0;
    this.refreshAt = null; // Date.now() milliseconds
    this.timer = null;
    this.setState("waiting");
  }

  Player.prototype.setState = function (state) {
    this.element.setAttribute("data-kollus-state", state);
  };

  Player.prototype.needsUrl = function () {
    return this.stale && !this.started && !this.loading;
  };

  Player.prototype.maybeLoad = function () {
    if (this.needsUrl() && this.visible && document.visibilityState !== "hidden") {
      this.load();
    }
  };

  Player.prototype.load = function () {
    var self = this;
    var separator = this.tokenUrl.indexOf("?") === -1 ? "?" : "&";
    this.loading = true;
    this.setState("loading");
    fetch(this.tokenUrl + separator + "reference=" + encodeURIComponent(this.reference), {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return {};
          })
          .then(function (body) {
            return { response: response, body: body };
          });
      })
      .then(function (result) {
        self.loading = false;
        var response = result.response;
        if (response.ok && result.body.url) {
          self.failures = 0;
          self.show(result.body.url, result.body.expires_in);
        } else if (response.status === 429) {
          var wait = parseInt(response.headers.get("Retry-After"), 10) || 5;
          self.retryLater(Math.min(wait, 120));
        } else if (response.status >= 500) {
          self.retryLater(Math.pow(2, self.failures) * 2);
        } else if (result.body.error === "refused" && result.body.message) {
          self.refuse(result.body.message); // the site's playback policy: say why
        } else {
          self.fail(); // refused reference or gone video: retrying will not help
        }
      })
      .catch(function () {
        self.loading = false;
        self.retryLater(Math.pow(2, self.failures) * 2);
      });
  };

  Player.prototype.show = function (url, expiresIn) {
    var self = this;
    this.stale = false;
    if (this.autoplay) {
      // An autoplaying player starts as soon as it loads: never reload it afterwards.
      this.iframe.addEventListener("load", function () {
        self.started = true;
      }, { once: true });
    }
    this.iframe.src = url;
    this.setState("ready");
    this.schedule(Number(expiresIn) || 0);
  };

  Player.prototype.schedule = function (expiresIn) {
    var self = this;
    var margin = Math.min(MAX_REFRESH_MARGIN, expiresIn / 5);
    var delay = Math.max(1, expiresIn - margin) * 1000;
    clearTimeout(this.timer);
    this.refreshAt = Date.now() + delay;
    this.timer = setTimeout(function () {
      self.tokenAging();
    }, delay);
  };

  Player.prototype.tokenAging = function () {
    clearTimeout(this.timer);
    this.refreshAt = null;
    if (this.started) {
      return; // playing or touched: keep the running player as it is
    }
    this.stale = true;
    this.maybeLoad();
  };

  Player.prototype.retryLater = function (seconds) {
    var self = this;
    this.failures += 1;
    if (this.failures > MAX_RETRIES) {
      this.fail();
      return;
    }
    this.setState("waiting");
    setTimeout(function () {
      self.maybeLoad();
    }, seconds * 1000);
  };

  Player.prototype.fail = function (text, state) {
    this.setState(state || "error");
    if (this.element.querySelector(".kollus-player__message[role=alert]")) {
      return;
    }
    var message = document.createElement("p");
    message.className = "kollus-player__message";
    message.setAttribute("role", "alert");
    message.textContent = text || this.element.getAttribute("data-kollus-error-text") || "";
    this.element.appendChild(message);
  };

  // The playback policy refused this viewer: its message (text, never HTML) in the player.
  Player.prototype.refuse = function (text) {
    this.iframe.removeAttribute("src");
    this.fail(text, "refused");
  };

  // Timers are throttled in background tabs: catch up when the page is seen again.
  Player.prototype.wake = function () {
    if (this.refreshAt !== null && Date.now() >= this.refreshAt) {
      this.tokenAging();
    } else {
      this.maybeLoad();
    }
  };

  // A click or keyboard focus inside a cross-origin iframe blurs the window and makes the
  // iframe the active element: the only start signal available without the player's API.
  window.addEventListener("blur", function () {
    setTimeout(function () {
      players.forEach(function (player) {
        if (document.activeElement === player.iframe && player.iframe.src) {
          player.started = true;
        }
      });
    }, 0);
  });

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      players.forEach(function (player) {
        player.wake();
      });
    }
  });

  var observer =
    "IntersectionObserver" in window
      ? new IntersectionObserver(
          function (entries) {
            entries.forEach(function (entry) {
              var player = entry.target.wagtailKollusPlayer;
              player.visible = entry.isIntersecting;
              if (player.visible) {
                player.wake();
              }
            });
          },
          { rootMargin: "200px 0px" }
        )
      : null;

  function scan() {
    var elements = document.querySelectorAll("[data-kollus-player]");
    Array.prototype.forEach.call(elements, function (element) {
      if (element.wagtailKollusPlayer || !element.querySelector("iframe")) {
        return;
      }
      var player = new Player(element);
      element.wagtailKollusPlayer = player;
      players.push(player);
      if (observer) {
        observer.observe(element);
      } else {
        player.visible = true; // old browsers: load at once
        player.maybeLoad();
      }
    });
  }

  window.wagtailKollusPlayer = { scan: scan };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", scan);
  } else {
    scan();
  }
})();
