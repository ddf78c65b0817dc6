// The step-by-step replay of a dossier (audit page /audit/dossiers/<id>/rejeu, section #replay).
//
// Without this script the page already works: links to the previous and next entries, and a GET
// form with a slider to any entry, each a page the server renders. With it, the diagrams of the
// dossier's pinned version (`data-diagrams-url`, once) are drawn with bpmn-js, and moving between
// entries (buttons, slider, the list of processes) fetches `data-state-url?entree=k`: the marks of
// every process (done, active, waiting) and the page's text for that entry (`html`, rendered and
// translated by the server), so no French text is written here. The address follows (?entree=k).
// The drawing, zoom, phase links and <select> are diagram_common.js's.
import {
  addMarkers,
  bindZoomButtons,
  createViewer,
  diagramParts,
  drawDiagram,
  fetchJSON,
  mainLabel,
  openPhaseOnClick,
  revealDiagrams,
  whenReady,
} from "./diagram_common.js";

const MARKERS = { done: "dsdt-done", active: "dsdt-current", waiting: "dsdt-waiting" };

function setup(section) {
  const parts = diagramParts(section);
  const { canvasEl, select, status, text } = parts;
  const stateEl = section.querySelector("#replay-state");
  const range = section.querySelector("input[type=range]");
  const output = section.querySelector("output");
  const form = section.querySelector("form.replay-form");
  const prev = section.querySelector(".replay-prev");
  const next = section.querySelector(".replay-next");
  const total = Number(section.dataset.total);
  if (!canvasEl || !select || !stateEl || !range || !total) return;

  const drawing = createViewer(canvasEl);
  const { viewer } = drawing;
  let diagrams = [];
  let shown = null; // index of the diagram drawn
  let marks = {}; // process id -> {done, active, waiting} of the entry shown
  let entry = Number(section.dataset.entry) || 1;
  let asked = 0; // the latest request: an older answer arriving late is dropped

  const announce = (message) => {
    if (status) status.textContent = message;
  };

  function paint() {
    if (shown === null) return;
    const diagram = diagrams[shown];
    const registry = viewer.get("elementRegistry");
    const canvas = viewer.get("canvas");
    registry.getAll().forEach((element) => {
      Object.values(MARKERS).forEach((marker) => canvas.removeMarker(element.id, marker));
    });
    const found = marks[diagram.process] || {};
    for (const [kind, marker] of Object.entries(MARKERS)) addMarkers(viewer, found[kind], marker);
    canvasEl.dataset.entry = String(entry); // the entry the drawing shows (read by the browser test)
  }

  // quiet: the caller announces (moving to another entry says which entry, not which diagram).
  async function show(index, quiet = false) {
    const diagram = diagrams[index];
    if (!diagram) return;
    if (shown !== index) {
      if (!(await drawDiagram(drawing, diagram, text, announce))) return;
      shown = index;
      select.value = String(index);
    }
    paint();
    if (!quiet) announce(`${text("labelShown")} ${diagram.name}`.trim());
  }

  function links(k) {
    const url = (n) => `${section.dataset.pageUrl}?entree=${n}`;
    // An end of the journal is a link without an address (not focusable, drawn faded).
    [[prev, k - 1], [next, k + 1]].forEach(([link, n]) => {
      if (!link) return;
      if (n >= 1 && n <= total) link.href = url(n);
      else link.removeAttribute("href");
    });
    range.value = String(k);
    range.setAttribute("aria-valuetext", `${k} / ${total}`);
    if (output) output.textContent = `${k} / ${total}`;
  }

  async function go(k) {
    if (!Number.isInteger(k) || k < 1 || k > total) return;
    const mine = ++asked;
    announce(text("labelLoading"));
    let data;
    try {
      const response = await fetch(`${section.dataset.stateUrl}?entree=${k}`, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      data = await response.json();
      if (!response.ok) throw new Error(data.message || `HTTP ${response.status}`);
    } catch (err) {
      if (mine === asked) announce(String(err.message || err));
      return;
    }
    if (mine !== asked) return;
    entry = k;
    marks = Object.fromEntries((data.processes || []).map((p) => [p.process, p]));
    stateEl.innerHTML = data.html; // rendered by the server (Jinja, escaped)
    links(k);
    history.replaceState(null, "", `${section.dataset.pageUrl}?entree=${k}`);
    // Follow the token: the phase running at this entry, else the diagram already shown.
    const running = diagrams.findIndex((d) => !d.main && (marks[d.process]?.active || []).length);
    await show(running >= 0 && running !== shown && diagrams[shown]?.main !== true ? running : (shown ?? 0), true);
    // One short announcement (the state's heading), not the whole state read again.
    announce(stateEl.querySelector("h2")?.textContent || "");
  }

  // The links and the form keep working without this script; with it, they move in place.
  [[prev, -1], [next, 1]].forEach(([link, step]) => {
    if (!link) return;
    link.addEventListener("click", (event) => {
      event.preventDefault();
      if (link.hasAttribute("href")) go(entry + step);
    });
  });

  let timer = null;
  range.addEventListener("input", () => {
    if (output) output.textContent = `${range.value} / ${total}`;
    clearTimeout(timer);
    timer = setTimeout(() => go(Number(range.value)), 150);
  });
  if (form) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      go(Number(range.value));
    });
  }
  select.addEventListener("change", () => show(Number(select.value)));
  bindZoomButtons(section, viewer);
  openPhaseOnClick(viewer, () => diagrams, show);

  fetchJSON(section.dataset.diagramsUrl)
    .then(async (data) => {
      diagrams = data.diagrams || [];
      if (!diagrams.length) throw new Error("no diagram");
      revealDiagrams(section, parts, diagrams, mainLabel(text));
      await show(0, true);
      await go(entry);
    })
    .catch((err) => {
      announce(text("labelError"));
      console.error(err);
    });
}

whenReady(() => document.querySelectorAll("section#replay[data-state-url]").forEach(setup));
