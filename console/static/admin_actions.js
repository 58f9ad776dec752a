/* Flask-Admin's list pages without inline event handlers, which the console's CSP blocks. The templates in
   templates/admin/ (actions.html, model/row_actions.html, model/layout.html) mark the elements instead:
   - data-model-action="name": run a bulk action on the checked rows (upstream: onclick="modelActions.execute()");
   - data-confirm="question": ask before a button that changes data submits its form (a row's delete);
   - href="#" role="button", and upstream's href="javascript:void(0)" (menu toggles, the "List" tab): links that
     only drive a script must not navigate; following a javascript: URL is itself a CSP violation.
   The listener runs in the capture phase, before any other script can stop the click from reaching it. */
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) {
      return;
    }
    var confirmed = target.closest("[data-confirm]");
    if (confirmed && !window.confirm(confirmed.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopPropagation();
      return;
    }
    var action = target.closest("[data-model-action]");
    if (action) {
      event.preventDefault();
      if (window.modelActions) {
        window.modelActions.execute(action.getAttribute("data-model-action"));
      }
      return;
    }
    if (target.closest('a[href="#"][role="button"], a[href^="javascript:"]')) {
      event.preventDefault();
    }
  }, true);
})();
