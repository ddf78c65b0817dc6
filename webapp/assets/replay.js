// The step-by-step replay of a dossier (audit page /audit/dossiers/<id>/rejeu, section #replay).
//
// Without this script the page already works: links to the previous and next entries, and a GET
// form with a slider to any entry, each a page the server renders. With it, the diagrams of the
// dossier's pinned version (`data-diagrams-url`, once) are drawn with bpmn-js, and moving between
// entries (buttons, slider, the list of processes) fetches `data-state-url?entree=k`: the marks of
// every process (done, active, waiting) and the page's text for that entry (`html`, rendered and
// translated by the server), so no French text is written here. The address follows (?entree=k).
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";

const MARKERS = { done: "dsdt-done", active: "dsdt-current", waiting: "dsdt-waiting" };

function setup(section) {
  const canvasEl = section.querySelector(".diagram-canvas");
  const controls = section.querySelector(".diagram-controls");
  const select = section.querySelector("select.diagram-select");
  const legend = section.querySelector(".diagram-legend");
  const status = section.querySelector(".diagram-status");
  const stateEl = section.querySelector("#replay-state");
  const range = section.querySelector("input[type=range]");
  const output = section.querySelector("output");
  const form = section.querySelector("form.replay-form");
  const prev = section.querySelector(".replay-prev");
  const next = section.querySelector(".replay-next");
  const text = (name) => section.dataset[name] || "";
  const total = Number(section.dataset.total);
  if (!canvasEl || !select || !stateEl || !range || !total) return;

  const viewer = new NavigatedViewer({ container: canvasEl });
  let diagrams = [];
  let shown = null; // index of the diagram drawn
  let marks = {}; // process id -> {done, active, waiting} of the entry shown
  let entry = Number(section.dataset.entry) || 1;
  let asked = 0; // the latest request: an older answer arriving late is dropped

  const announce = (message) => {
    if (status) status.textContent = message;
  };

  const svg = viewer.get("canvas")._svg;
  svg.setAttribute("role", "img");
  if (canvasEl.dataset.describedby) svg.setAttribute("aria-describedby", canvasEl.dataset.describedby);

  function paint() {
    if (shown === null) return;
    const diagram = diagrams[shown];
    const registry = viewer.get("elementRegistry");
    const canvas = viewer.get("canvas");
    registry.getAll().forEach((element) => {
      Object.values(MARKERS).forEach((marker) => canvas.removeMarker(element.id, marker));
    });
    const found = marks[diagram.process] || {};
    for (const [kind, marker] of Object.entries(MARKERS)) {
      for (const id of found[kind] || []) {
        if (registry.get(id)) canvas.addMarker(id, marker);
      }
    }
    canvasEl.dataset.entry = String(entry); // the entry the drawing shows (read by the browser test)
  }

  // quiet: the caller announces (moving to another entry says which entry, not which diagram).
  async function show(index, quiet = false) {
    const diagram = diagrams[index];
    if (!diagram) return;
    if (shown !== index) {
      try {
        await viewer.importXML(diagram.xml);
      } catch (err) {
        announce(text("labelError"));
        console.error(err);
        return;
      }
      shown = index;
      select.value = String(index);
      svg.setAttribute("aria-label", `${text("labelCanvas")} ${diagram.name}`.trim());
      viewer.get("canvas").zoom("fit-viewport", "auto");
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
  section.querySelectorAll("button[data-zoom]").forEach((button) => {
    button.addEventListener("click", () => {
      const canvas = viewer.get("canvas");
      const how = button.dataset.zoom;
      if (how === "fit") canvas.zoom("fit-viewport", "auto");
      else canvas.zoom(canvas.zoom() * (how === "in" ? 1.25 : 0.8));
    });
  });
  viewer.on("element.click", (event) => {
    const target = diagrams.findIndex((d) => d.calledBy === event.element.id);
    if (target >= 0) show(target);
  });

  fetch(section.dataset.diagramsUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then((response) => {
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return response.json();
    })
    .then(async (data) => {
      diagrams = data.diagrams || [];
      if (!diagrams.length) throw new Error("no diagram");
      select.replaceChildren(
        ...diagrams.map((diagram, index) => {
          const option = document.createElement("option");
          option.value = String(index);
          option.textContent = diagram.main ? `${diagram.name} (${text("labelMain")})` : diagram.name;
          return option;
        }),
      );
      canvasEl.hidden = false;
      if (controls) controls.hidden = false;
      if (legend) legend.hidden = false;
      section.classList.add("diagram-ready");
      await show(0, true);
      await go(entry);
    })
    .catch((err) => {
      announce(text("labelError"));
      console.error(err);
    });
}

function start() {
  document.querySelectorAll("section#replay[data-state-url]").forEach(setup);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
