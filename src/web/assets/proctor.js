// The proctor's console, refreshed in place: each candidate's status chip, progress, clock,
// last contact and focus count follow the server every few seconds, so a form being typed in
// (or a menu left open) is kept. Without script the page shows the same, as of its loading.
(function () {
  "use strict";
  var table = document.getElementById("console");
  if (!table) { return; }
  var url = table.getAttribute("data-live");
  function cell(row, cls, text) {
    var td = row.querySelector("td." + cls);
    if (td && td.textContent !== String(text)) { td.textContent = text; }
  }
  function status(row, r) {
    var td = row.querySelector("td.status");
    if (!td) { return; }
    var chip = td.querySelector(".chip");
    var klass = "chip" + (r.chip_class ? " " + r.chip_class : "");
    if (chip && (chip.textContent !== r.chip || chip.className !== klass)) {
      chip.textContent = r.chip;
      chip.className = klass;
    }
    var flag = td.querySelector(".problem");
    if (r.problem && !flag) {
      flag = document.createElement("span");
      flag.className = "chip bad problem";
      flag.textContent = "problem";
      td.appendChild(document.createTextNode(" "));
      td.appendChild(flag);
    } else if (!r.problem && flag) {
      td.removeChild(flag);
    }
    row.setAttribute("data-state", r.state);
  }
  setInterval(function () {
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (rows) {
        rows.forEach(function (r) {
          var row = table.querySelector("tr[data-registration='" + r.registration + "']");
          if (!row) { return; }
          status(row, r);
          cell(row, "progress", r.progress);
          cell(row, "time-left", r.time_left);
          cell(row, "connection", r.connection);
          cell(row, "focus", r.focus_losses);
        });
      })
      .catch(function () {});
  }, 5000);
})();
