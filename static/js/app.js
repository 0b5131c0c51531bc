// Small progressive enhancements; every page works without them.
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
});
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  if (!field) return;
  try {
    await navigator.clipboard.writeText(field.value);
  } catch {
    field.select();
    document.execCommand("copy");
  }
  button.textContent = button.dataset.copied || "✓";
});
// Show only the fields that the chosen activity kind uses.
function syncKindFields() {
  const select = document.getElementById("kind_code");
  if (!select) return;
  const option = select.options[select.selectedIndex];
  const unit = option ? option.dataset.unit : "";
  document.querySelectorAll("[data-for-unit]").forEach((row) => {
    const wanted = row.dataset.forUnit.split(" ");
    row.hidden = unit && !wanted.includes(unit) && !(option && wanted.includes(option.value));
  });
}
document.addEventListener("change", (event) => {
  if (event.target.id === "kind_code") syncKindFields();
});
document.addEventListener("DOMContentLoaded", syncKindFields);
