// Large imports: show how far the upload is, then what the server is doing.
// Every form works without this script, as a plain post.
// - A form marked data-import-progress is sent with XMLHttpRequest, so the bytes
//   sent can be shown (data-sending, with {percent}); once they are all sent it
//   shows data-busy until the server answers. The server answers such a request
//   (X-Requested-With) with {"location": …}, where the page then goes; any other
//   answer (a form error, a refusal) and the form is sent again as a plain post,
//   so the server's own page shows.
// - A form marked data-import-busy is sent as usual (its body is small; the wait
//   is the server's): the clicked button's data-busy (else the form's) is shown.
// The texts come translated from the templates. The listener is on window, so it
// runs after the ones on document (upload-size.js refusing a file, a confirm).
(() => {
  function show(form, text, percent) {
    const box = form.querySelector(".import-progress");
    if (!box) return;
    const bar = box.querySelector("progress");
    if (percent === null) bar.removeAttribute("value"); // running, length unknown
    else bar.value = percent;
    box.querySelector(".import-progress-status").textContent = text;
    box.hidden = false;
  }

  function send(form) {
    const xhr = new XMLHttpRequest();
    const plain = () => HTMLFormElement.prototype.submit.call(form);
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.responseType = "json"; // null when the answer is not JSON
    xhr.upload.addEventListener("progress", (event) => {
      if (!event.lengthComputable) return;
      const percent = Math.floor((100 * event.loaded) / event.total);
      show(form, form.dataset.sending.replace("{percent}", `${percent}%`), percent);
    });
    xhr.upload.addEventListener("load", () => show(form, form.dataset.busy, 100));
    xhr.addEventListener("load", () => {
      const location = xhr.status === 200 && xhr.response && xhr.response.location;
      if (location) window.location.assign(location);
      else plain();
    });
    xhr.addEventListener("error", plain);
    show(form, form.dataset.sending.replace("{percent}", "0%"), 0);
    xhr.send(new FormData(form));
  }

  window.addEventListener("submit", (event) => {
    const form = event.target;
    if (event.defaultPrevented || !form.matches("[data-import-progress], [data-import-busy]")) {
      return;
    }
    if (form.dataset.sent) {
      event.preventDefault(); // one import at a time: a second click waits for the first
      return;
    }
    form.dataset.sent = "1";
    if (form.matches("[data-import-progress]")) {
      event.preventDefault();
      send(form);
    } else {
      show(form, event.submitter?.dataset.busy || form.dataset.busy, null);
    }
  });

  // Back to a page the browser kept: its forms can be sent again.
  window.addEventListener("pageshow", (event) => {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-sent]").forEach((form) => {
      delete form.dataset.sent;
      const box = form.querySelector(".import-progress");
      if (box) box.hidden = true;
    });
  });
})();
