// The analytics page's heatmap (section[data-heatmap-url]): the process diagrams drawn with bpmn-js's
// NavigatedViewer, each step coloured by the median waiting before it (classes heat-0 .. heat-4, from
// heatmap.json) with its value written in an overlay, so colour is never the only carrier. The steps
// table of the page holds the same numbers and is the text alternative; every French text comes from
// the page (data-* attributes) or the server's JSON. The drawing, phase links and <select> are
// diagram_common.js's.
import {
  createViewer,
  diagramParts,
  drawDiagram,
  fetchJSON,
  mainLabel,
  openPhaseOnClick,
  revealDiagrams,
  whenReady,
} from "./diagram_common.js";

function setup(section) {
  const parts = diagramParts(section);
  const { canvasEl, select, status, text } = parts;
  if (!canvasEl || !select || !status) return;

  const drawing = createViewer(canvasEl);
  const { viewer } = drawing;
  let diagrams = [];
  const announce = (message) => {
    status.textContent = message;
  };

  function paint(diagram) {
    const registry = viewer.get("elementRegistry");
    const canvas = viewer.get("canvas");
    const overlays = viewer.get("overlays");
    for (const [id, heat] of Object.entries(diagram.heat || {})) {
      if (!registry.get(id)) continue;
      canvas.addMarker(id, `heat-${heat.level}`);
      const badge = document.createElement("span");
      badge.className = "heat-value";
      badge.textContent = heat.text;
      overlays.add(id, { position: { bottom: -4, left: 0 }, html: badge });
    }
  }

  async function show(index) {
    const diagram = diagrams[index];
    if (!diagram) return;
    if (!(await drawDiagram(drawing, diagram, text, announce))) return;
    select.value = String(index);
    paint(diagram);
    announce(`${text("labelShown")} ${diagram.name}`.trim());
  }

  select.addEventListener("change", () => show(Number(select.value)));
  openPhaseOnClick(viewer, () => diagrams, show);

  fetchJSON(section.dataset.heatmapUrl)
    .then(async (data) => {
      diagrams = data.diagrams || [];
      if (!diagrams.length) {
        announce(text("labelError"));
        return;
      }
      revealDiagrams(section, parts, diagrams, mainLabel(text));
      await show(0);
    })
    .catch((err) => {
      announce(text("labelError"));
      console.error(err);
    });
}

whenReady(() => document.querySelectorAll("section[data-heatmap-url]").forEach(setup));
