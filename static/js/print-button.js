// Printed sheets: the toolbar's Print button (no inline script: the CSP allows only files from 'self').
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
});
