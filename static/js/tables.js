// Phones show each table row as a card (static/css/app.css): every body cell is
// labelled with its column's header text, so a card reads "标题  …" line by line.
// A cell that already has a data-label keeps it; a cell spanning columns gets none.
function labelTableCells(root) {
  root.querySelectorAll("table").forEach((table) => {
    const head = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
    if (!head) return;
    const names = [];
    for (const cell of head.cells) {
      const text = cell.innerText.trim().replace(/\s+/g, " ");
      for (let i = 0; i < cell.colSpan; i += 1) names.push(text);
    }
    for (const body of [...table.tBodies, table.tFoot].filter(Boolean)) {
      for (const row of body.rows) {
        let column = 0;
        for (const cell of row.cells) {
          const name = names[column];
          if (!cell.hasAttribute("data-label") && cell.colSpan === 1 && name) {
            cell.setAttribute("data-label", name);
          }
          column += cell.colSpan;
        }
      }
    }
  });
}
document.addEventListener("DOMContentLoaded", () => labelTableCells(document));
// Rows added later (e.g. an import's progress) are labelled as they arrive.
new MutationObserver((changes) => {
  for (const change of changes) {
    for (const node of change.addedNodes) {
      if (node.nodeType === Node.ELEMENT_NODE && (node.closest("table") || node.querySelector("table"))) {
        labelTableCells(document);
        return;
      }
    }
  }
}).observe(document.documentElement, { childList: true, subtree: true });
