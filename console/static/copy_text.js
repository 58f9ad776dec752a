/* Copy buttons without inline handlers (the console's CSP blocks them): a button with
   data-copy-target="id" copies that element's text (a textarea's value) and says so. */
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("[data-copy-target]") : null;
    if (!button) {
      return;
    }
    var source = document.getElementById(button.getAttribute("data-copy-target"));
    if (!source) {
      return;
    }
    var text = "value" in source ? source.value : source.textContent;
    var done = function () {
      var status = document.getElementById(button.getAttribute("aria-describedby") || "");
      if (status) {
        status.textContent = "Copied to the clipboard.";
      }
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () {
        source.select();
      });
    } else if (source.select) {
      source.select();
      if (document.execCommand("copy")) {
        done();
      }
    }
  });
})();
