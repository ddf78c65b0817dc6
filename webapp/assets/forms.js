// Progressive enhancement of the task form (webapp/templates/dossiers/task.html).
//
// The page works without this script: repeatable rows show one empty row and a hint ("save the
// draft to get one more"), rows are deleted with their "supprimer" checkbox, the server reports
// errors. With it:
//   * each list of rows (fieldset[data-rows], rendered by webapp/schema_forms) gets an
//     "Ajouter une ligne" button that clones the list's <template> row, and each row a
//     "Supprimer" button, within data-min-items / data-max-items; rows are renumbered
//     (names f.budget.N.x, ids f-budget-N-x) so the post reads like the server's own rows;
//   * the error summary, when there is one, takes the focus (RGAA: errors announced first);
//   * a notice says when the form has changes that are not saved yet (no autosave: files cannot
//     be saved behind the person's back).
// Every text comes from the page (data-* attributes, translated by the server).

const INDEX = "__index__";

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

class RowList {
  constructor(group) {
    this.group = group;
    this.list = group.querySelector(":scope > .sf-rows-list");
    this.template = group.querySelector(":scope > template.sf-row-template");
    this.name = group.dataset.rows;
    this.id = group.dataset.rowsId;
    this.min = Number(group.dataset.minItems || 0);
    this.max = group.dataset.maxItems === undefined ? Infinity : Number(group.dataset.maxItems);
    // f.budget.3.montant / f.budget.__index__ ; f-budget-3-montant / f-budget-3--row
    this.namePattern = new RegExp(`^${escapeRegExp(this.name)}\\.(\\d+|${INDEX})(?=\\.|$)`);
    this.idPattern = new RegExp(`^${escapeRegExp(this.id)}-(\\d+|${INDEX})(?=-|$)`);
  }

  rows() {
    return Array.from(this.list.children).filter((el) => el.classList.contains("sf-row"));
  }

  enhance() {
    const hint = this.group.querySelector(":scope > .sf-rows-hint");
    if (hint) hint.hidden = true;
    for (const row of this.rows()) this.enhanceRow(row);
    this.addButton = document.createElement("button");
    this.addButton.type = "button";
    this.addButton.className = "secondary sf-add-row";
    this.addButton.textContent = this.group.dataset.addLabel;
    this.addButton.setAttribute("aria-label", this.group.dataset.addName);
    this.addButton.addEventListener("click", () => this.add());
    this.list.after(this.addButton);
    this.refresh();
  }

  enhanceRow(row) {
    // The no-JS "supprimer" checkbox becomes a button that takes the row out of the form.
    const box = row.querySelector(":scope > .sf-delete");
    if (box) box.remove();
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary sf-remove-row";
    button.textContent = this.group.dataset.removeLabel;
    button.addEventListener("click", () => this.remove(row));
    row.append(button);
  }

  add() {
    if (this.rows().length >= this.max) return;
    const row = this.template.content.firstElementChild.cloneNode(true);
    row.classList.add("sf-row-added");
    this.enhanceRow(row);
    this.list.append(row);
    this.refresh();
    this.group.dispatchEvent(new Event("input", { bubbles: true }));
    const first = row.querySelector("input:not([type=hidden]), select, textarea");
    if (first) first.focus();
  }

  remove(row) {
    if (this.rows().length <= this.min) return;
    row.remove();
    this.refresh();
    this.group.dispatchEvent(new Event("input", { bubbles: true }));
    this.addButton.focus();
  }

  renumber(row, index) {
    const rename = (value, pattern, prefix, sep) => value.replace(pattern, `${prefix}${sep}${index}`);
    const elements = [row, ...row.querySelectorAll("*")];
    for (const el of elements) {
      if (el.hasAttribute("name")) el.setAttribute("name", rename(el.getAttribute("name"), this.namePattern, this.name, "."));
      for (const attr of ["id", "for"]) {
        if (el.hasAttribute(attr)) el.setAttribute(attr, rename(el.getAttribute(attr), this.idPattern, this.id, "-"));
      }
      for (const attr of ["aria-describedby", "aria-labelledby"]) {
        if (!el.hasAttribute(attr)) continue;
        const ids = el.getAttribute(attr).split(/\s+/).map((ref) => rename(ref, this.idPattern, this.id, "-"));
        el.setAttribute(attr, ids.join(" "));
      }
    }
    const legend = row.querySelector(":scope > legend");
    if (legend) legend.textContent = this.group.dataset.legend.replace("{n}", String(index + 1));
    const button = row.querySelector(":scope > .sf-remove-row");
    if (button && legend) button.setAttribute("aria-label", this.group.dataset.removeName.replace("{legend}", legend.textContent));
  }

  refresh() {
    const rows = this.rows();
    rows.forEach((row, index) => this.renumber(row, index));
    for (const row of rows) row.querySelector(":scope > .sf-remove-row").disabled = rows.length <= this.min;
    this.addButton.disabled = rows.length >= this.max;
  }
}

function watchUnsaved(form) {
  const notice = document.getElementById("unsaved-notice");
  if (!notice) return;
  let dirty = false;
  const mark = () => {
    if (dirty) return;
    dirty = true;
    notice.textContent = form.dataset.unsavedMessage;
  };
  form.addEventListener("input", mark);
  form.addEventListener("change", mark);
  form.addEventListener("submit", () => {
    dirty = false;
    notice.textContent = "";
  });
}

function init() {
  const form = document.querySelector("form.task-form");
  if (!form) return;
  for (const group of form.querySelectorAll("fieldset[data-rows]")) {
    if (group.querySelector(":scope > template.sf-row-template")) new RowList(group).enhance();
  }
  watchUnsaved(form);
  const summary = form.querySelector(".sf-error-summary");
  if (summary) summary.focus();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
