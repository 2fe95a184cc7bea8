// qrun report: sort a table by a column (numbers as numbers, "-" last) and filter the runs table by any text.
// A few lines of plain script, so the file works offline and from disk with nothing to load.
"use strict";
for (const table of document.querySelectorAll("table.sortable")) {
  const body = table.tBodies[0];
  table.querySelectorAll("th").forEach((th, i) => {
    th.addEventListener("click", () => {
      const ascending = th.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("th").forEach((h) => h.removeAttribute("aria-sort"));
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      const key = (row) => {
        const cell = row.cells[i];
        if (cell.dataset.n !== undefined) return [0, Number(cell.dataset.n)];
        const text = cell.textContent.trim();
        return [text === "-" || text === "" ? 2 : 1, text];
      };
      const rows = [...body.rows].sort((a, b) => {
        const [ka, va] = key(a);
        const [kb, vb] = key(b);
        if (ka !== kb) return ka - kb;
        const order = typeof va === "number" ? va - vb : va.localeCompare(vb, undefined, { numeric: true });
        return ascending ? order : -order;
      });
      body.append(...rows);
    });
  });
}
const filter = document.getElementById("filter");
if (filter) {
  const rows = [...document.querySelectorAll(".runs-table tbody tr")];
  filter.addEventListener("input", () => {
    const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const row of rows) {
      const text = row.textContent.toLowerCase();
      row.hidden = !words.every((w) => text.includes(w));
      shown += row.hidden ? 0 : 1;
    }
    // a spec none of whose runs match is hidden whole, its heading too
    for (const spec of document.querySelectorAll("#runs .spec")) {
      spec.hidden = [...spec.querySelectorAll("tbody tr")].every((row) => row.hidden);
    }
    document.getElementById("shown").textContent = `${shown} of ${rows.length} runs`;
  });
}
