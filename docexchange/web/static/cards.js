// At a phone's width a table with class "cards" shows each row as a card (style.css); each
// cell is named by its column's heading, unless the page named it already.
document.addEventListener("DOMContentLoaded", function () {
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
