/* Show every time the server rendered (<time datetime="…Z" data-local-time>) in the viewer's own time zone,
   with that zone named: "27 Nov 2026, 15:05 CET". The server's text, in the console's configured zone, stays
   as the tooltip. Served from /static (the CSP allows no inline script); without it the server's text stays. */
(function () {
  "use strict";

  function formatter(withSeconds) {
    var options = {day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
                   hourCycle: "h23", timeZoneName: "short"};
    if (withSeconds) {
      options.second = "2-digit";
    }
    return new Intl.DateTimeFormat("en-GB", options);
  }

  function showLocalTimes(root) {
    var plain = formatter(false);
    var precise = formatter(true);
    var times = root.querySelectorAll("time[data-local-time]");
    for (var i = 0; i < times.length; i++) {
      var node = times[i];
      var moment = new Date(node.getAttribute("datetime"));
      if (isNaN(moment.getTime())) {
        continue;
      }
      if (!node.title) {
        node.title = node.textContent.trim();
      }
      node.textContent = (node.hasAttribute("data-seconds") ? precise : plain).format(moment);
      node.setAttribute("data-local-time", "shown");
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { showLocalTimes(document); });
  } else {
    showLocalTimes(document);
  }
})();
