// The planner's "credited: N days" line follows the dates as they are typed.
// The server counts (pdtracker/placements/days.py): this script only asks the
// same page again with the dates so far (GET, nothing saved) and swaps in the
// line it renders. Without the script the line is right on every page load.
(() => {
  const note = document.getElementById("credited-days");
  const form = note && document.getElementById("starts_on")?.form;
  if (!form) return;
  const names = ["starts_on", "ends_on", "working_days"];
  let latest = 0;

  async function refresh() {
    const asked = ++latest;
    const params = new URLSearchParams();
    for (const name of names) {
      const field = form.elements.namedItem(name);
      if (field && field.value) params.set(name, field.value);
    }
    try {
      const response = await fetch(`${location.pathname}?${params}`, {
        credentials: "same-origin",
      });
      if (!response.ok || asked !== latest) return;
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = page.getElementById("credited-days");
      const current = document.getElementById("credited-days");
      if (fresh && current && asked === latest) current.replaceWith(fresh);
    } catch {
      // Offline or refused: the line keeps its last number; saving still works.
    }
  }

  for (const name of names) {
    form.elements.namedItem(name)?.addEventListener("change", refresh);
  }
})();
