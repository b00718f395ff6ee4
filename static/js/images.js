// The media images (templates/_media.html): with this file, each real image stays transparent over its
// blurred placeholder until it has loaded, then fades in. Without it, the real image simply shows.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  function watch(img) {
    function done(state) { return function () { img.classList.add(state); }; }
    if (img.complete) { img.classList.add(img.naturalWidth ? "loaded" : "failed"); return; }
    img.addEventListener("load", done("loaded"), { once: true });
    img.addEventListener("error", done("failed"), { once: true });  // the alt text shows instead
  }
  Array.prototype.forEach.call(document.querySelectorAll("img.media-image"), watch);
})();
