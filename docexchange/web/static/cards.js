// At a phone's width a table with class "cards" shows each row as a card (style.css); each
// cell is named by its column's heading, unless the page named it already.
document.addEventListener("DOMContentLoaded", function () {
  // On a wide screen the filters of a list are all in view; on a phone they fold away
  // (the list comes first) unless one is in use.
  if (window.matchMedia("(min-width: 48em)").matches) {
    document.querySelectorAll("details.more-filters").forEach(function (details) {
      details.open = true;
    });
  }
  document.querySelectorAll("table.cards").forEach(function (table) {
    var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent.trim();
    });
    table.querySelectorAll("tbody tr").forEach(function (row) {
      Array.prototype.forEach.call(row.children, function (cell, i) {
        if (!cell.hasAttribute("data-label") && heads[i] && cell.colSpan === 1) {
          cell.setAttribute("data-label", heads[i]);
        }
      });
    });
  });
});
