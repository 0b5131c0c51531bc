// Refuse an oversize file before the form is sent. Without this, the browser
// uploads the whole file, the server answers 413 and everything typed is lost.
// A file field carries its limit (data-max-bytes) and the message to show
// (data-too-large, already translated); templates/_macros.html writes both.
(() => {
  const tooLarge = (input) =>
    Array.from(input.files || []).some((file) => file.size > Number(input.dataset.maxBytes));

  function feedback(input) {
    let box = input.parentElement.querySelector(".upload-size-feedback");
    if (!box) {
      box = document.createElement("div");
      box.className = "invalid-feedback d-block upload-size-feedback";
      box.setAttribute("role", "alert");
      input.insertAdjacentElement("afterend", box);
    }
    return box;
  }

  function check(input) {
    if (!tooLarge(input)) {
      input.classList.remove("is-invalid");
      input.parentElement.querySelector(".upload-size-feedback")?.remove();
      return true;
    }
    feedback(input).textContent = input.dataset.tooLarge;
    input.classList.add("is-invalid");
    return false; // kept, so the form stays blocked until another file is chosen
  }

  document.addEventListener("change", (event) => {
    if (event.target.matches("input[type=file][data-max-bytes]")) check(event.target);
  });
  document.addEventListener("submit", (event) => {
    const inputs = event.target.querySelectorAll("input[type=file][data-max-bytes]");
    const ok = Array.from(inputs).map(check).every(Boolean);
    if (!ok) event.preventDefault();
  });
})();
