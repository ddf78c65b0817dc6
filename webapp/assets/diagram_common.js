// What the three diagram pages share (dossier diagram viewer.js, audit replay.js, analytics heatmap.js):
// a section holding a .diagram-canvas, a <select> of the diagrams, optional zoom buttons, a legend and
// a status line; the diagrams fetched as JSON from the server, drawn one at a time with bpmn-js's
// NavigatedViewer, fitted and named for assistive technologies; a click on a phase (call activity)
// opening that phase's diagram. Each page keeps its own marks (done/current, replay's entries, heat).
// Every French text comes from the page (data-* attributes of the section), not from here.
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";

// The section's parts and its text lookup (`text("labelError")` reads data-label-error).
export function diagramParts(section) {
  return {
    canvasEl: section.querySelector(".diagram-canvas"),
    controls: section.querySelector(".diagram-controls"),
    select: section.querySelector("select.diagram-select"),
    legend: section.querySelector(".diagram-legend"),
    status: section.querySelector(".diagram-status"),
    text: (name) => section.dataset[name] || "",
  };
}

// The viewer in the canvas. Its <svg> (focusable, arrow keys pan it) is an image whose text
// alternative is the element named by the canvas's data-describedby.
export function createViewer(canvasEl) {
  const viewer = new NavigatedViewer({ container: canvasEl });
  const svg = viewer.get("canvas")._svg;
  svg.setAttribute("role", "img");
  if (canvasEl.dataset.describedby) svg.setAttribute("aria-describedby", canvasEl.dataset.describedby);
  return { viewer, svg };
}

// Draws one diagram, names the image after it and fits it to the canvas. A diagram that cannot be
// read is announced (labelError) and leaves false; the caller then keeps its previous state.
export async function drawDiagram({ viewer, svg }, diagram, text, announce) {
  try {
    await viewer.importXML(diagram.xml);
  } catch (err) {
    announce(text("labelError"));
    console.error(err);
    return false;
  }
  svg.setAttribute("aria-label", `${text("labelCanvas")} ${diagram.name}`.trim());
  viewer.get("canvas").zoom("fit-viewport", "auto");
  return true;
}

// Adds `marker` (a CSS class) to each element of the drawn diagram named in ids; others are skipped.
export function addMarkers(viewer, ids, marker) {
  const registry = viewer.get("elementRegistry");
  const canvas = viewer.get("canvas");
  for (const id of ids || []) {
    if (registry.get(id)) canvas.addMarker(id, marker);
  }
}

// The zoom buttons of the section (button[data-zoom="in" | "out" | "fit"]), if any.
export function bindZoomButtons(section, viewer) {
  section.querySelectorAll("button[data-zoom]").forEach((button) => {
    button.addEventListener("click", () => {
      const canvas = viewer.get("canvas");
      const how = button.dataset.zoom;
      if (how === "fit") canvas.zoom("fit-viewport", "auto");
      else canvas.zoom(canvas.zoom() * (how === "in" ? 1.25 : 0.8));
    });
  });
}

// A click on a phase (call activity) opens that phase's diagram: show(index of the diagram it calls).
export function openPhaseOnClick(viewer, diagrams, show) {
  viewer.on("element.click", (event) => {
    const target = diagrams().findIndex((d) => d.calledBy === event.element.id);
    if (target >= 0) show(target);
  });
}

// The <select>'s options, one a diagram (label(diagram, index) is its text), then the diagram shown.
export function revealDiagrams(section, parts, diagrams, label) {
  parts.select.replaceChildren(
    ...diagrams.map((diagram, index) => {
      const option = document.createElement("option");
      option.value = String(index);
      option.textContent = label(diagram, index);
      return option;
    }),
  );
  parts.canvasEl.hidden = false;
  if (parts.controls) parts.controls.hidden = false;
  if (parts.legend) parts.legend.hidden = false;
  section.classList.add("diagram-ready");
}

// The default option text: the main process is marked as such.
export function mainLabel(text) {
  return (diagram) => (diagram.main ? `${diagram.name} (${text("labelMain")})` : diagram.name);
}

// GET a JSON document of the application (the session's cookie); an HTTP error is thrown.
export async function fetchJSON(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.json();
}

// Runs start once the document is parsed.
export function whenReady(start) {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
}
