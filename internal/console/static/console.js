// agent-bridge console: live updates. The pages are complete without this
// script; it only replaces the live part of the page when the server sends
// a new one over Server-Sent Events. No polling, no libraries.
(function () {
  "use strict";
  var live = document.getElementById("live");
  var state = document.getElementById("livestate");
  if (!live || !window.EventSource) { return; }
  var src = live.getAttribute("data-events");
  if (!src) { return; }

  function say(text, cls) {
    if (!state) { return; }
    state.hidden = false;
    state.textContent = text;
    state.className = "livestate " + (cls || "");
  }

  // apply puts new HTML in place, keeping what the person is typing.
  function apply(html) {
    var typed = {};
    var focused = document.activeElement && live.contains(document.activeElement) ? document.activeElement.id : "";
    Array.prototype.forEach.call(live.querySelectorAll("input[id], textarea[id]"), function (el) {
      if (el.type !== "hidden") { typed[el.id] = el.value; }
    });
    live.innerHTML = html;
    Object.keys(typed).forEach(function (id) {
      var el = document.getElementById(id);
      if (el && live.contains(el)) { el.value = typed[id]; }
    });
    if (focused) {
      var f = document.getElementById(focused);
      if (f) { f.focus(); }
    }
    var marker = live.querySelector("[data-pending]");
    var badge = document.getElementById("pending-count");
    if (marker && badge) {
      var n = marker.getAttribute("data-pending");
      badge.textContent = n;
      badge.hidden = n === "0";
    }
    live.setAttribute("data-updated", String(Date.now()));
  }

  var es = new EventSource(src);
  es.addEventListener("open", function () { say("live", "on"); });
  es.addEventListener("update", function (e) { apply(e.data); say("live", "on"); });
  es.addEventListener("gone", function () { es.close(); say("not found", "off"); });
  es.addEventListener("error", function () {
    say(es.readyState === EventSource.CLOSED ? "disconnected: reload" : "reconnecting…", "off");
  });
})();
