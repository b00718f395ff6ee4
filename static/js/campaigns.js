// Progressive enhancement of the organizer's campaign pages: every page works without this file.
// The campaign page: the progress is polled and shown without reloading (without JavaScript,
//    a <noscript> meta refresh reloads the page instead), and the page reloads once when finished.
(function () {
  "use strict";
  var box = document.querySelector("[data-progress-url]");
  if (!box || box.getAttribute("data-finished") === "true" || !window.fetch) { return; }
  function show(selector, value) {
    var element = box.querySelector(selector);
    if (element) { element.textContent = String(value); }
  }
  function update(progress) {
    var bar = box.querySelector("progress");
    if (bar) { bar.value = progress.percent; bar.textContent = progress.percent + " %"; }
    show("[data-final]", progress.final);
    show("[data-total]", progress.counted ? progress.recipients : box.getAttribute("data-counting"));
    show("[data-percent]", progress.percent);
    Object.keys(progress.statuses).forEach(function (s) { show('[data-status-count="' + s + '"]', progress.statuses[s]); });
    Object.keys(progress.events).forEach(function (e) { show('[data-event-count="' + e + '"]', progress.events[e]); });
  }
  function poll() {
    fetch(box.getAttribute("data-progress-url"), { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { if (!response.ok) { throw new Error(String(response.status)); } return response.json(); })
      .then(function (progress) {
        update(progress);
        if (progress.finished) { window.location.reload(); } else { window.setTimeout(poll, 2000); }
      })
      .catch(function () { window.setTimeout(poll, 10000); });
  }
  window.setTimeout(poll, 2000);
})();
