// s3audit HTML report: filtering by severity, status, control and bucket, in the page.
// Reads only data-* attributes and the JSON block; writes only classes and textContent.
"use strict";
(function () {
  const form = document.getElementById("filters");
  if (!form) return;
  const data = JSON.parse(document.getElementById("s3audit-data").textContent);
  const select = form.querySelector("select[name=control]");
  for (const control of data.controls) {
    const option = document.createElement("option");
    option.value = control;
    option.textContent = control;
    select.appendChild(option);
  }
  const items = Array.from(document.querySelectorAll("[data-filter]"));
  const rows = Array.from(document.querySelectorAll("table.matrix tbody tr"));
  const columns = Array.from(document.querySelectorAll("table.matrix [data-c]"));
  const shown = document.getElementById("shown");

  function state() {
    const checked = (name) => new Set(Array.from(form.querySelectorAll(`input[name=${name}]:checked`), (i) => i.value));
    return {
      severities: checked("severity"),
      statuses: checked("status"),
      control: select.value,
      query: form.querySelector("input[name=q]").value.trim().toLowerCase(),
    };
  }

  function matches(el, s) {
    const d = el.dataset;
    if (d.severity && !s.severities.has(d.severity)) return false;
    if (d.status && !s.statuses.has(d.status)) return false;
    if (s.control && d.control && d.control !== s.control) return false;
    if (s.query && d.subjects !== undefined && !d.subjects.toLowerCase().includes(s.query)) return false;
    return true;
  }

  function cellMatches(cell, s) {
    const d = cell.dataset;
    return s.statuses.has(d.s) && (!d.v || s.severities.has(d.v)) && (!s.control || d.c === s.control);
  }

  function apply() {
    const s = state();
    let visible = 0;
    for (const el of items) {
      const on = matches(el, s);
      el.classList.toggle("hidden", !on);
      if (on && el.dataset.count) visible += Number(el.dataset.count);
    }
    for (const row of rows) {
      const name = row.dataset.bucket.toLowerCase();
      const on = (!s.query || name.includes(s.query)) &&
        Array.from(row.querySelectorAll("td[data-s]")).some((cell) => cellMatches(cell, s));
      row.classList.toggle("hidden", !on);
    }
    for (const cell of columns) {
      cell.classList.toggle("col-hidden", Boolean(s.control) && cell.dataset.c !== s.control);
    }
    shown.textContent = `${visible} finding(s) shown`;
  }

  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  form.addEventListener("submit", (event) => event.preventDefault());
  form.addEventListener("reset", () => setTimeout(apply, 0));
  apply();
})();
