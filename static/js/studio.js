// The workflow studio: draw each <pre class="mermaid"> diagram (the text stays there without JavaScript).
(function () {
  "use strict";
  if (!window.mermaid) {
    return;
  }
  window.mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });
  window.mermaid.run({ querySelector: "pre.mermaid" });
})();
