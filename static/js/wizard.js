// Progressive enhancement of the wizard: every page works without this file.
// 1. focus the error summary, 2. no double submit, 3. show/hide conditional fields live.
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }

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
      }).catch(function () { /* offline: the server still decides on submit */ });
  }
  function toggle(name, show) {
    var box = form.querySelector('[data-field="' + name + '"]');
    if (box) { box.hidden = !show; }
  }
  form.addEventListener("change", function () { clearTimeout(timer); timer = setTimeout(refresh, 150); });
  form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(refresh, 400); });
  refresh();
})();
