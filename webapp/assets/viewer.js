// The BPMN diagram of a dossier (dossier page, section #schema), drawn with bpmn-js's NavigatedViewer.
//
// The page works without this script: the section then shows the list of done and current steps,
// and the timeline below is the full text alternative. With it, the script fetches
// `data-diagram-url` (the diagrams the dossier went through, with done/current element ids),
// draws the main process, marks done (green) and current (highlighted) elements, and lets the
// reader switch to each phase's diagram with a <select> (or by clicking a phase in the main
// process). Every French text it shows comes from the page (data-* attributes), not from here.
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";

const DONE = "dsdt-done";
const CURRENT = "dsdt-current";

function setup(section) {
  const canvasEl = section.querySelector(".diagram-canvas");
  const controls = section.querySelector(".diagram-controls");
  const select = section.querySelector("select.diagram-select");
  const legend = section.querySelector(".diagram-legend");
  const status = section.querySelector(".diagram-status");
  const text = (name) => section.dataset[name] || "";
  if (!canvasEl || !select || !status) return;

  const viewer = new NavigatedViewer({ container: canvasEl });
  let diagrams = [];
  let shown = null;

  function announce(message) {
    status.textContent = message;
  }

  function mark(diagram) {
    const registry = viewer.get("elementRegistry");
    const canvas = viewer.get("canvas");
    for (const id of diagram.done) {
      if (registry.get(id)) canvas.addMarker(id, DONE);
    }
    for (const id of diagram.current) {
      if (registry.get(id)) canvas.addMarker(id, CURRENT);
    }
  }

  // The drawing itself (bpmn-js's <svg>, focusable so that arrow keys pan it) is the image; its text
  // alternative is the list of steps above it (aria-describedby) and the timeline below.
  const svg = viewer.get("canvas")._svg;
  svg.setAttribute("role", "img");
  if (canvasEl.dataset.describedby) svg.setAttribute("aria-describedby", canvasEl.dataset.describedby);

  function describe(diagram) {
    svg.setAttribute("aria-label", `${text("labelCanvas")} ${diagram.name}`.trim());
  }

  async function show(index) {
    const diagram = diagrams[index];
    if (!diagram || shown === index) return;
    try {
      await viewer.importXML(diagram.xml);
    } catch (err) {
      announce(text("labelError"));
      console.error(err);
      return;
    }
    shown = index;
    select.value = String(index);
    mark(diagram);
    describe(diagram);
    viewer.get("canvas").zoom("fit-viewport", "auto");
    announce(`${text("labelShown")} ${diagram.name}`.trim());
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

  // A click on a phase (call activity) of the main process opens that phase's diagram.
  viewer.on("element.click", (event) => {
    const target = diagrams.findIndex((d) => d.calledBy === event.element.id);
    if (target >= 0) show(target);
  });

  fetch(section.dataset.diagramUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then((response) => {
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return response.json();
    })
    .then(async (data) => {
      diagrams = data.diagrams || [];
      if (!diagrams.length) {
        announce(text("labelError"));
        return;
      }
      select.replaceChildren(
        ...diagrams.map((diagram, index) => {
          const option = document.createElement("option");
          option.value = String(index);
          let label = diagram.main ? `${diagram.name} (${text("labelMain")})` : diagram.name;
          if (diagram.current.length && !diagram.main) label += ` — ${text("labelCurrent")}`;
          option.textContent = label;
          return option;
        }),
      );
      canvasEl.hidden = false;
      if (controls) controls.hidden = false;
      if (legend) legend.hidden = false;
      section.classList.add("diagram-ready");
      await show(0);
    })
    .catch((err) => {
      announce(text("labelError"));
      console.error(err);
    });
}

function start() {
  document.querySelectorAll("section[data-diagram-url]").forEach(setup);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
