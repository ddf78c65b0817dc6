// Progress of a test against history (modeler/history_check.html), without reloading the page.
// The page works without JavaScript (an "Actualiser" link); with it, the progress bar and the status
// follow /etat.json every few seconds, and the page is loaded again once, when the test has ended,
// to show its result table. No timed reload: a screen reader is not interrupted (RGAA 13.1).
const root = document.querySelector("[data-history-check]");
if (root) {
  const url = root.dataset.historyCheck;
  const every = Number(root.dataset.every || 2) * 1000;
  const bar = root.querySelector("progress");
  const label = root.querySelector("[data-progress-label]");
  const manual = root.querySelector("[data-manual-refresh]");
  if (manual) manual.hidden = true;
  const poll = async () => {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) throw new Error(String(response.status));
      const state = await response.json();
      bar.max = state.total || 1;
      bar.value = state.checked;
      bar.textContent = `${state.checked} / ${state.total}`;
      if (label) label.textContent = label.dataset.template.replace("{done}", state.checked).replace("{total}", state.total);
      if (state.finished) {
        window.location.reload();
        return;
      }
    } catch (err) {
      if (manual) manual.hidden = false; // polling failed: the link still works
      return;
    }
    window.setTimeout(poll, every);
  };
  window.setTimeout(poll, every);
}
