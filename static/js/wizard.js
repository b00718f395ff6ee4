// Progressive enhancement of the wizard: every page works without this file.
// 1. focus the error summary, 2. no double submit, 3. show/hide conditional fields live, and follow
// which `required_if` fields are required now (their marker, `required` and aria-required).
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  // its autofocus attribute already does this without JavaScript; focusing again is harmless
  if (summary && document.activeElement !== summary) { summary.focus(); }

  var form = document.querySelector("form.step[data-state]");
  if (!form) { return; }

  form.addEventListener("submit", function (event) {
    if (form.dataset.submitting) { event.preventDefault(); return; }
    form.dataset.submitting = "1";
    var pressed = event.submitter;
    if (pressed && pressed.name) {
      // a disabled button is not sent: carry its value in a hidden input
      var carry = document.createElement("input");
      carry.type = "hidden"; carry.name = pressed.name; carry.value = pressed.value;
      form.appendChild(carry);
    }
    Array.prototype.forEach.call(form.querySelectorAll("button[type=submit]"), function (b) { b.disabled = true; });
  });

  var conditional = form.querySelectorAll("[data-conditional]");
  if (!conditional.length || !window.fetch || !window.FormData) { return; }
  var token = form.querySelector("input[name=csrf_token]").value;
  var timer = null;
  function refresh() {
    fetch(form.dataset.visibility, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "X-CSRFToken": token, "Accept": "application/json" }
    }).then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) {
        if (!answer) { return; }
        answer.visible.forEach(function (name) { toggle(name, true); });
        answer.hidden.forEach(function (name) { toggle(name, false); });
        if (answer.required) { requirements(answer.required); }
      }).catch(function () { /* offline: the server still decides on submit */ });
  }
  function toggle(name, show) {
    var box = form.querySelector('[data-field="' + name + '"]');
    if (box) { box.hidden = !show; }
  }
  function requirements(required) {
    Array.prototype.forEach.call(form.querySelectorAll("[data-required-if]"), function (box) {
      var on = required.indexOf(box.dataset.field) !== -1;
      var marker = box.querySelector("[data-required-marker]");
      if (marker) { marker.hidden = !on; }
      var controls = box.querySelectorAll("input:not([type=checkbox]):not([type=radio]):not([type=hidden]), select, textarea");
      Array.prototype.forEach.call(controls, function (control) {
        control.required = on;
        if (on) { control.setAttribute("aria-required", "true"); } else { control.removeAttribute("aria-required"); }
      });
    });
  }
  form.addEventListener("change", function () { clearTimeout(timer); timer = setTimeout(refresh, 150); });
  form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(refresh, 400); });
  refresh();
})();

// 4. Addresses: the communes of a French postal code fill in as it is typed; the city block that
// does not apply to the chosen country is hidden, and abroad the French commune is dropped (the
// server drops it too: this only keeps the page honest).
(function () {
  "use strict";
  if (!window.fetch) { return; }
  Array.prototype.forEach.call(document.querySelectorAll("fieldset[data-address]"), function (box) {
    var country = box.querySelector("[data-address-country]");
    var postal = box.querySelector("[data-address-postal-code]");
    var city = box.querySelector("[data-address-city]");
    var listed = box.querySelector("[data-address-listed]");
    var france = box.querySelector("[data-address-france]");
    var abroad = box.querySelector("[data-address-abroad]");
    var cityName = box.querySelector("[data-address-city-name]");
    var notice = box.querySelector("[data-address-elsewhere]");
    var asked = listed ? listed.value : "";
    var chosen = "";  // the commune chosen before going abroad, chosen again on coming back
    function inFrance() { return !country.value || country.value === "FR"; }
    function toggle() {
      var here = inFrance();
      france.hidden = !here; abroad.hidden = here;
      postal.setAttribute("inputmode", here ? "numeric" : "text");
      if (!here) {
        chosen = city.value || chosen;
        fill([], "");
        asked = "";
      }
    }
    function fill(cities, code) {
      var keep = city.value || chosen;
      while (city.options.length) { city.remove(0); }
      if (cities.length !== 1) { city.add(new Option(city.dataset.placeholder || "—", "")); }
      cities.forEach(function (c) { city.add(new Option(c.name, c.code)); });
      if (cities.length === 1) { city.value = cities[0].code; }
      else if (cities.some(function (c) { return c.code === keep; })) { city.value = keep; }
      if (listed) { listed.value = cities.length ? code : ""; }
    }
    // A postal code of another country (Monaco's 980xx): that country is chosen, as the server would.
    function elsewhere(code) {
      var option = country.querySelector('option[value="' + code + '"]');
      if (!option) { return; }
      country.value = code;
      toggle();
      if (cityName && !cityName.value.trim()) { cityName.value = option.text; }
      if (notice) { notice.hidden = false; }
    }
    function lookup() {
      var code = postal.value.trim();
      if (!inFrance() || !/^\d{5}$/.test(code) || code === asked) { return; }
      asked = code;
      fetch(box.dataset.citiesUrl + "?postal_code=" + encodeURIComponent(code), { headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (answer) {
          if (!answer || answer.postal_code !== postal.value.trim() || !inFrance()) { return; }
          if (answer.country) { elsewhere(answer.country); } else { fill(answer.cities, answer.postal_code); }
        })
        .catch(function () { asked = ""; });
    }
    if (city.options.length && city.options[0].value === "") { city.dataset.placeholder = city.options[0].text; }
    country.addEventListener("change", function () { if (notice) { notice.hidden = true; } toggle(); lookup(); });
    postal.addEventListener("input", lookup);
    postal.addEventListener("change", lookup);  // filled in by the browser's autofill
    toggle();
    // Typed (or autofilled) before this script ran: its communes are fetched now, not on the next key.
    if (!city.querySelector('option:not([value=""])')) { lookup(); }
  });
})();
