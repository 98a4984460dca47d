// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // Move focus to an error summary so screen readers announce it.
  var summary = document.querySelector("[data-module=error-summary]");
  if (summary) {
    summary.focus();
    // A fragment in the address (a form sent to "page#section") takes the focus
    // when the browser scrolls to it: give it back to the summary.
    if (window.location.hash) {
      window.addEventListener("load", function () {
        summary.focus();
      });
    }
  }

  // Live lists: a table marked data-live="<event stream URL>" is refreshed in place
  // whenever the stream reports a change (the server renders the rows again).
  // When the stream drops, EventSource reconnects by itself and sends the last
  // event id (the change's position): the server resumes after it, so the
  // changes missed meanwhile arrive first. A "reload" event says they could not
  // be resumed; the refresh shows them all the same. Refreshes never overlap:
  // changes that arrive during one make one more after it.
  document.querySelectorAll("[data-live]").forEach(function (region) {
    if (!window.EventSource) {
      return;
    }
    var source = new EventSource(region.getAttribute("data-live"));
    var status = document.getElementById(region.getAttribute("data-live-status"));
    var busy = false;
    var again = false;
    function refresh() {
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      var url = region.getAttribute("data-refresh") || window.location.href;
      fetch(url, { headers: { "X-Requested-With": "live" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html === null) {
            return;
          }
          var page = new DOMParser().parseFromString(html, "text/html");
          var fresh = page.getElementById(region.id);
          if (fresh) {
            region.innerHTML = fresh.innerHTML;
            if (status) {
              status.textContent = "Updated " + new Date().toLocaleTimeString("en-GB");
            }
          }
        })
        .catch(function () {})
        .then(function () {
          busy = false;
          if (again) {
            again = false;
            refresh();
          }
        });
    }
    source.addEventListener("referral", refresh);
    source.addEventListener("reload", refresh);
  });
})();
