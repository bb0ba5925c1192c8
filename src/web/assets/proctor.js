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
