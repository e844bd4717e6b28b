// Grey out the fieldsets that do not apply to the engine chosen on the
// assistant page (classes "engine-only engine-<name>"; see assistants/admin.py).
// Greyed fields stay editable and are still saved: switching engines back and
// forth keeps them. An empty engine means the deployment's default, which the
// select names in data-default-engine.
"use strict";
(function () {
  function update(select) {
    var engine = select.value || select.dataset.defaultEngine || "openai-realtime";
    document.querySelectorAll("fieldset.engine-only").forEach(function (fieldset) {
      var applies = fieldset.classList.contains("engine-" + engine);
      fieldset.classList.toggle("engine-not-applicable", !applies);
      fieldset.setAttribute("aria-disabled", applies ? "false" : "true");
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var select = document.getElementById("id_engine");
    if (!select) {
      return;
    }
    select.addEventListener("change", function () { update(select); });
    update(select);
  });
})();
