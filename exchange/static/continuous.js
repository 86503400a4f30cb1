/* Continuous market page: refresh the depth, the last trades and the day's chart every few
   seconds without a reload. The server renders the live part (#continuous-live) as an HTML
   fragment in the page's language; without scripts the page shows it as loaded. */
(function () {
  "use strict";
  var box = document.getElementById("continuous-live");
  if (!box || !window.fetch) { return; }
  var url = box.getAttribute("data-live-url");
  var delay = 3000;
  function refresh() {
    if (document.hidden) { window.setTimeout(refresh, delay); return; }
    window.fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html !== null) {
          var parsed = new DOMParser().parseFromString(html, "text/html");
          box.replaceChildren.apply(box, Array.prototype.slice.call(parsed.body.childNodes));
        }
      })
      .catch(function () { /* try again at the next tick */ })
      .then(function () { window.setTimeout(refresh, delay); });
  }
  window.setTimeout(refresh, delay);
})();
