/* The call log's filters: open on wide screens, folded behind their "Filters"
 * button on phones unless some are in use. Without this script they stay open. */
(function () {
  "use strict";
  var panel = document.getElementById("filter-panel");
  if (!panel || panel.hasAttribute("data-filtered")) { return; }
  if (window.matchMedia("(max-width: 760px)").matches) { panel.open = false; }
}());
