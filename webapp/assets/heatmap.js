// The analytics page's heatmap (section[data-heatmap-url]): the process diagrams drawn with bpmn-js's
// NavigatedViewer, each step coloured by the median waiting before it (classes heat-0 .. heat-4, from
// heatmap.json) with its value written in an overlay, so colour is never the only carrier. The steps
// table of the page holds the same numbers and is the text alternative; every French text comes from
// the page (data-* attributes) or the server's JSON.
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";

function setup(section) {
  const canvasEl = section.querySelector(".diagram-canvas");
  const controls = section.querySelector(".diagram-controls");
  const select = section.querySelector("select.diagram-select");
  const legend = section.querySelector(".heat-legend");
  const status = section.querySelector(".diagram-status");
  const text = (name) => section.dataset[name] || "";
  if (!canvasEl || !select || !status) return;

  const viewer = new NavigatedViewer({ container: canvasEl });
  const svg = viewer.get("canvas")._svg;
  svg.setAttribute("role", "img");
  if (canvasEl.dataset.describedby) svg.setAttribute("aria-describedby", canvasEl.dataset.describedby);
  let diagrams = [];

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
    try {
      await viewer.importXML(diagram.xml);
    } catch (err) {
      status.textContent = text("labelError");
      console.error(err);
      return;
    }
    select.value = String(index);
    paint(diagram);
    svg.setAttribute("aria-label", `${text("labelCanvas")} ${diagram.name}`.trim());
    viewer.get("canvas").zoom("fit-viewport", "auto");
    status.textContent = `${text("labelShown")} ${diagram.name}`.trim();
  }

  select.addEventListener("change", () => show(Number(select.value)));
  viewer.on("element.click", (event) => {
    const target = diagrams.findIndex((d) => d.calledBy === event.element.id);
    if (target >= 0) show(target);
  });

  fetch(section.dataset.heatmapUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then((response) => {
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return response.json();
    })
    .then(async (data) => {
      diagrams = data.diagrams || [];
      if (!diagrams.length) {
        status.textContent = text("labelError");
        return;
      }
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
      await show(0);
    })
    .catch((err) => {
      status.textContent = text("labelError");
      console.error(err);
    });
}

function start() {
  document.querySelectorAll("section[data-heatmap-url]").forEach(setup);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
