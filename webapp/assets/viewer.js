// The BPMN diagram of a dossier (dossier page, section #schema), drawn with bpmn-js's NavigatedViewer.
//
// The page works without this script: the section then shows the list of done and current steps,
// and the timeline below is the full text alternative. With it, the script fetches
// `data-diagram-url` (the diagrams the dossier went through, with done/current element ids),
// draws the main process, marks done (green) and current (highlighted) elements, and lets the
// reader switch to each phase's diagram with a <select> (or by clicking a phase in the main
// process). Every French text it shows comes from the page (data-* attributes), not from here.
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

const DONE = "dsdt-done";
const CURRENT = "dsdt-current";

function setup(section) {
  const parts = diagramParts(section);
  const { canvasEl, select, status, text } = parts;
  if (!canvasEl || !select || !status) return;

  const drawing = createViewer(canvasEl);
  const { viewer } = drawing;
  let diagrams = [];
  let shown = null;

  function announce(message) {
    status.textContent = message;
  }

  async function show(index) {
    const diagram = diagrams[index];
    if (!diagram || shown === index) return;
    if (!(await drawDiagram(drawing, diagram, text, announce))) return;
    shown = index;
    select.value = String(index);
    addMarkers(viewer, diagram.done, DONE);
    addMarkers(viewer, diagram.current, CURRENT);
    announce(`${text("labelShown")} ${diagram.name}`.trim());
  }

  select.addEventListener("change", () => show(Number(select.value)));
  bindZoomButtons(section, viewer);
  openPhaseOnClick(viewer, () => diagrams, show);

  // A phase with a current step says so in the <select> (the main process is always first).
  const plain = mainLabel(text);
  const label = (diagram) => plain(diagram) + (diagram.current.length && !diagram.main ? ` — ${text("labelCurrent")}` : "");

  fetchJSON(section.dataset.diagramUrl)
    .then(async (data) => {
      diagrams = data.diagrams || [];
      if (!diagrams.length) {
        announce(text("labelError"));
        return;
      }
      revealDiagrams(section, parts, diagrams, label);
      await show(0);
    })
    .catch((err) => {
      announce(text("labelError"));
      console.error(err);
    });
}

whenReady(() => document.querySelectorAll("section[data-diagram-url]").forEach(setup));
