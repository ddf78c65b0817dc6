// The form editor's live preview (/modeler/brouillons/<name>/formulaire/<form>): the page is a
// plain form (JSON Schema and UI schema textareas, "Aperçu" and "Enregistrer" buttons) that works
// without JavaScript; with it, the preview is redrawn a moment after each change by POSTing both
// texts to the server, which answers with the HTML its form renderer draws for staff, or with the
// error that makes the schema unusable.
const DELAY_MS = 600;

function setup(form) {
  const preview = document.getElementById("form-preview");
  const status = document.getElementById("form-preview-status");
  const url = form.dataset.previewUrl;
  let timer = null;
  let sequence = 0;

  async function refresh() {
    const mine = ++sequence;
    const body = new FormData(form);
    body.delete("action");
    const response = await fetch(url, { method: "POST", body, headers: { Accept: "text/html" }, credentials: "same-origin" });
    const html = await response.text();
    if (mine !== sequence) return; // a newer request is on its way
    // The server's own renderer output (autoescaped Jinja), from the same origin.
    preview.innerHTML = html;
    status.textContent = form.dataset[response.ok ? "labelUpdated" : "labelError"] || "";
  }

  form.addEventListener("input", (event) => {
    if (!event.target.matches("textarea")) return;
    clearTimeout(timer);
    timer = setTimeout(() => refresh().catch((err) => console.error(err)), DELAY_MS);
  });
}

const form = document.getElementById("form-editor");
if (form) setup(form);
