// Progressive enhancement of /search: the page works without this file (the form is a GET).
// With it, results follow what is typed: a debounced fetch of /api/search, answers applied in order
// (a slow answer to an older query never replaces a newer one), and the address updated to match.
(function () {
  "use strict";
  var form = document.querySelector("form[data-search]");
  if (!form || !window.fetch || !window.URLSearchParams) { return; }
  var list = document.querySelector("[data-search-results]");
  var status = document.querySelector("[data-search-status]");
  var more = document.querySelector("[data-search-more]");
  var timer = null, asked = 0, shown = 0;

  function params() {
    var found = new URLSearchParams();
    ["q", "type", "department"].forEach(function (name) {
      var value = form.elements[name].value.trim();
      if (value) { found.set(name, value); }
    });
    return found;
  }
  function item(result) {
    var li = document.createElement("li"), kind = document.createElement("p"), h2 = document.createElement("h2"),
        link = document.createElement("a");
    li.className = "card"; li.setAttribute("data-kind", result.kind);
    kind.className = "flow-title"; kind.textContent = result.kind_label; li.appendChild(kind);
    link.href = result.url; link.textContent = result.title; h2.appendChild(link); li.appendChild(h2);
    if (result.when || result.place) {
      var meta = document.createElement("p");
      meta.className = "event-meta";
      meta.textContent = [result.when, result.place].filter(Boolean).join(" · ");
      li.appendChild(meta);
    }
    if (result.summary) {
      var summary = document.createElement("p");
      summary.textContent = result.summary; li.appendChild(summary);
    }
    return li;
  }
  function show(answer, query) {
    while (list.firstChild) { list.removeChild(list.firstChild); }
    answer.results.forEach(function (result) { list.appendChild(item(result)); });
    status.textContent = answer.status;
    while (more.firstChild) { more.removeChild(more.firstChild); }  // "more" pages are for the full page
    window.history.replaceState(null, "", form.action + (query.toString() ? "?" + query.toString() : ""));
  }
  function run() {
    var query = params(), number = ++asked, url = new URLSearchParams(query.toString());
    url.set("lang", form.getAttribute("data-lang") || "fr");
    fetch(form.getAttribute("data-api-url") + "?" + url.toString(), { headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) {
        if (answer && number > shown) { shown = number; show(answer, query); }
      })
      .catch(function () { /* offline or limited: the form still submits */ });
  }
  function later() { clearTimeout(timer); timer = setTimeout(run, 200); }
  form.addEventListener("input", later);
  form.addEventListener("change", later);
})();
