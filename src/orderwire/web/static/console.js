// Live parts of the console: any element with data-live="<url>" is refreshed every few seconds
// without reloading the page; the open-cases badge follows /console/api/pulse.
(function () {
  "use strict";
  var EVERY_MS = 4000;
  function refresh(el) {
    fetch(el.getAttribute("data-live"), { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html !== null && html !== el.getAttribute("data-last")) {
          el.setAttribute("data-last", html);
          el.innerHTML = html;
          if (el.classList.contains("thread")) { el.scrollTop = el.scrollHeight; }
        }
      })
      .catch(function () {});
  }
  function pulse() {
    var badge = document.getElementById("open-cases");
    if (!badge) { return; }
    fetch("/console/api/pulse", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { badge.textContent = String(data.open_cases); } })
      .catch(function () {});
  }
  document.addEventListener("DOMContentLoaded", function () {
    var live = Array.prototype.slice.call(document.querySelectorAll("[data-live]"));
    live.forEach(function (el) { el.setAttribute("data-last", el.innerHTML); });
    document.querySelectorAll(".thread").forEach(function (t) { t.scrollTop = t.scrollHeight; });
    pulse();
    setInterval(function () { live.forEach(refresh); pulse(); }, EVERY_MS);
  });
})();
