// Proctor console helper: a chosen CSV file's text goes into the text box, so the form needs
// no file upload and works the same with a pasted file.
(function () {
  "use strict";
  var input = document.querySelector("input[type=file][data-fills]");
  if (!input) { return; }
  input.addEventListener("change", function () {
    var file = input.files && input.files[0];
    if (!file) { return; }
    var reader = new FileReader();
    reader.onload = function () { document.getElementById(input.getAttribute("data-fills")).value = reader.result; };
    reader.readAsText(file);
  });
})();

// The live view: the console's rows refresh in place, so forms being typed in are kept.
(function () {
  "use strict";
  var table = document.getElementById("console");
  if (!table) { return; }
  var url = table.getAttribute("data-live");
  function cell(row, cls, text) {
    var td = row.querySelector("td." + cls);
    if (td && td.textContent !== String(text)) { td.textContent = text; }
  }
  setInterval(function () {
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (rows) {
        rows.forEach(function (r) {
          var row = table.querySelector("tr[data-registration='" + r.registration + "']");
          if (!row) { return; }
          cell(row, "status", r.status);
          cell(row, "answered", r.answered);
          cell(row, "last-save", r.last_save);
          cell(row, "focus", r.focus_losses);
          cell(row, "connection", r.connection);
        });
      })
      .catch(function () {});
  }, 5000);
})();
