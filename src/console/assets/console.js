// Copy buttons: <button data-copy="id"> copies the text of the element with that id. Without clipboard
// access (plain http on another host), the text is selected instead, ready for Ctrl+C.
document.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest("[data-copy]") : null;
  if (!button) return;
  const source = document.getElementById(button.getAttribute("data-copy"));
  if (!source) return;
  const label = button.textContent;
  const done = (text) => {
    button.textContent = text;
    setTimeout(() => {
      button.textContent = label;
    }, 1500);
  };
  const select = () => {
    const range = document.createRange();
    range.selectNodeContents(source);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    done("Selected: press Ctrl+C");
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(source.textContent).then(() => done("Copied"), select);
  } else {
    select();
  }
});

// Names typed once carry over: <input data-carry="id"> copies its value into the input with that id, unless
// the user typed something else there (its value is neither empty nor what was carried before).
document.addEventListener("input", (event) => {
  const source = event.target;
  if (!(source instanceof HTMLInputElement) || !source.dataset.carry) return;
  const target = document.getElementById(source.dataset.carry);
  const carried = source.dataset.carried ?? source.defaultValue;
  if (target instanceof HTMLInputElement && (target.value === "" || target.value === carried)) {
    target.value = source.value;
  }
  source.dataset.carried = source.value;
});
