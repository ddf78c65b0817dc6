// What the draft editors share (modeler.js for BPMN, dmn_editor.js for DMN): the page's data (the
// JSON of #modeler-data: file, revision, URLs, CSRF token, French labels), JSON POSTs carrying the
// CSRF token, the status line, and "Enregistrer": the file POSTed with the draft revision the page
// started from (the server answers 409 when someone saved meanwhile), the revision shown updated.

// The page's data, written by the server into <script type="application/json" id="modeler-data">.
export function pageData() {
  return JSON.parse(document.getElementById("modeler-data").textContent);
}

// POST body as JSON with the page's CSRF token; the answer's status and JSON body ({} if none).
export async function postJSON(url, csrf, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, Accept: "application/json" },
    body: JSON.stringify(body),
    credentials: "same-origin",
  });
  let data = {};
  try { data = await response.json(); } catch (err) { data = {}; }
  return { status: response.status, data };
}

// Writes a message in the editor's status line (.modeler-status, a live region).
export function announcer(root) {
  const status = root.querySelector(".modeler-status");
  return (message) => { status.textContent = message; };
}

// Runs action on a click of the button; a failure is announced (labels.failed) and logged.
export function onClick(button, action, announce, failed) {
  button.addEventListener("click", () => { action().catch((err) => { announce(failed); console.error(err); }); });
}

// save(): the editor's XML POSTed to data.saveUrl with the revision last saved; on success the
// revision moves on, every .draft-revision shows the server's summary and saved(body) runs; on a
// refusal the server's error is announced and refused(status, body) runs.
export function draftSaver(data, editor, announce, { saved = async () => {}, refused = () => {} } = {}) {
  let revision = data.revision;
  return async function save() {
    announce(data.labels.saving);
    const { xml } = await editor.saveXML({ format: true });
    const { status: code, data: body } = await postJSON(data.saveUrl, data.csrf, { path: data.path, content: xml, revision });
    if (code === 200) {
      revision = body.revision;
      for (const out of document.querySelectorAll(".draft-revision")) out.textContent = body.summary;
      announce(body.message);
      await saved(body);
    } else {
      announce(body.error || data.labels.failed);
      refused(code, body);
    }
  };
}

// Imports the file into the editor, then ready() (may be async); the root gets .modeler-ready and
// labels.loaded is announced. An unreadable file is announced with the parser's message.
export function openFile(root, editor, data, announce, ready = async () => {}) {
  return editor.importXML(data.xml).then(ready).then(() => {
    root.classList.add("modeler-ready");
    announce(data.labels.loaded);
  }).catch((err) => { announce(`${data.labels.failed} ${err.message}`); console.error(err); });
}
