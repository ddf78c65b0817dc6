// The version diff page (figure.version-diff): the two versions of a changed diagram side by side,
// drawn with bpmn-js's NavigatedViewer, each element marked by its change (diff-added, diff-removed,
// diff-changed: from the server's semantic diff, engine/model_diff.py). Removed elements are marked on
// the old diagram, added ones on the new, changed ones on both. The lists of the page say the same in
// text and stay the alternative; markers also add a dashed outline, so colour is not the only carrier.
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";

async function draw(container, xml, marks, sides) {
  if (!xml) return;
  const viewer = new NavigatedViewer({ container });
  await viewer.importXML(xml);
  const canvas = viewer.get("canvas");
  const registry = viewer.get("elementRegistry");
  canvas.zoom("fit-viewport");
  for (const [id, kind] of Object.entries(marks)) {
    if (sides.includes(kind) && registry.get(id)) canvas.addMarker(id, `diff-${kind}`);
  }
}

for (const figure of document.querySelectorAll("figure.version-diff")) {
  const data = JSON.parse(figure.querySelector("script.diff-data").textContent);
  draw(figure.querySelector(".diff-old"), data.old, data.marks, ["removed", "changed"]).catch(() => {});
  draw(figure.querySelector(".diff-new"), data.new, data.marks, ["added", "changed"]).catch(() => {});
}
